//! Lenient reading of API answers (spec §1.3): unknown keys are ignored (serde's default),
//! absent keys take defaults (`#[serde(default)]` on every record), and these helpers accept
//! `null` where a value was documented.

use serde::{Deserialize, Deserializer};

use crate::hyper::{self, HyperParams};

/// A value that may be `null`: `null` becomes the default.
pub(crate) fn nullable<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// The `hyper_parameters` echo of a job: unknown keys ignored ([`hyper::lenient`]); `null` or a
/// value of the wrong type reads as "nothing set" rather than failing the whole job record.
pub(crate) fn hyper_echo<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<HyperParams, D::Error> {
    let value = Option::<serde_json::Value>::deserialize(deserializer)?;
    Ok(value
        .and_then(|v| hyper::lenient(v).ok())
        .unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Record {
        #[serde(default, deserialize_with = "nullable")]
        ids: Vec<String>,
        #[serde(default, deserialize_with = "hyper_echo")]
        hyper_parameters: HyperParams,
    }

    #[test]
    fn nulls_and_odd_echoes_read_as_defaults() {
        let r: Record = serde_json::from_str(r#"{"ids":null,"hyper_parameters":null}"#).unwrap();
        assert!(r.ids.is_empty());
        assert_eq!(r.hyper_parameters, HyperParams::default());
        let r: Record = serde_json::from_str(
            r#"{"ids":["a"],"hyper_parameters":{"learning_rate":2.0E-5,"max_output_cnt":8}}"#,
        )
        .unwrap();
        assert_eq!(r.ids, ["a"]);
        assert_eq!(r.hyper_parameters.learning_rate, Some(2e-5));
        let r: Record =
            serde_json::from_str(r#"{"hyper_parameters":{"n_epochs":"many"}}"#).unwrap();
        assert_eq!(r.hyper_parameters, HyperParams::default());
        let r: Record = serde_json::from_str("{}").unwrap();
        assert!(r.ids.is_empty());
    }
}
