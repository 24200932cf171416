//! Status enums of the API's resources. Each knows the platform's documented values and keeps
//! any other one as [`Other`](JobStatus::Other) instead of failing: new statuses appear without
//! notice, and a client that refuses them cannot even show them.

/// Declares a status enum: its documented values, `Other(String)` for the rest, string
/// (de)serialisation, `Display`, and `Default` (`Other("")`, for an absent or `null` status).
macro_rules! status_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$variant_meta:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$variant_meta])* $variant,)+
            /// A value this version of wanft does not know, kept as sent.
            Other(String),
        }

        impl $name {
            /// The value as the API writes it.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $text,)+
                    Self::Other(other) => other,
                }
            }

            /// Reads the API's value; unknown ones become `Other`.
            pub fn parse(text: &str) -> Self {
                match text {
                    $($text => Self::$variant,)+
                    other => Self::Other(other.to_owned()),
                }
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::Other(String::new())
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text: Option<String> = serde::Deserialize::deserialize(deserializer)?;
                Ok(text.map_or_else(Self::default, |t| Self::parse(&t)))
            }
        }
    };
}

pub(crate) use status_enum;

#[cfg(test)]
mod tests {
    status_enum! {
        /// A test status.
        Sample {
            Ready = "READY",
            Gone = "GONE",
        }
    }

    #[test]
    fn known_unknown_and_absent_values() {
        assert_eq!(Sample::parse("READY"), Sample::Ready);
        assert_eq!(Sample::parse("NEW"), Sample::Other("NEW".into()));
        let parsed: Vec<Sample> = serde_json::from_str(r#"["GONE","LATER",null]"#).unwrap();
        assert_eq!(
            parsed,
            [
                Sample::Gone,
                Sample::Other("LATER".into()),
                Sample::default()
            ]
        );
        assert_eq!(serde_json::to_string(&Sample::Ready).unwrap(), r#""READY""#);
        assert_eq!(Sample::Other("LATER".into()).to_string(), "LATER");
    }
}
