//! Decoder configuration records (`avcC` for H.264, `hvcC` for H.265): a decoder cannot start
//! without the parameter sets they carry, so a record that does not parse means a clip that does
//! not decode.
//!
//! Only the structure is checked (versions, counts and lengths that fit, parameter-set NAL unit
//! types), not the parameter sets' contents.

use super::boxes::{FourCc, fourcc_name};

/// Why the record `kind` with `body` cannot be read, or `None` when it is well formed.
pub(super) fn problem(kind: &FourCc, body: &[u8]) -> Option<String> {
    let result = match kind {
        b"avcC" => avc(body),
        b"hvcC" => hevc(body),
        _ => Ok(()),
    };
    result
        .err()
        .map(|why| format!("its '{}' decoder configuration {why}", fourcc_name(kind)))
}

/// A cursor that reports running out of bytes as "is cut short".
struct Bytes<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Bytes<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.data.len());
        let end = end.ok_or_else(|| {
            format!(
                "is cut short ({} bytes, {} more needed at byte {})",
                self.data.len(),
                n,
                self.pos
            )
        })?;
        let bytes = &self.data[self.pos..end];
        self.pos = end;
        Ok(bytes)
    }

    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, String> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
}

/// ISO/IEC 14496-15 §5.3.3: version 1, profile, compatibility, level, NAL length size, then the
/// sequence and picture parameter sets with 16-bit lengths.
fn avc(body: &[u8]) -> Result<(), String> {
    let mut bytes = Bytes { data: body, pos: 0 };
    let version = bytes.u8()?;
    if version != 1 {
        return Err(format!("has version {version} (only 1 exists)"));
    }
    bytes.take(3)?; // profile, compatibility, level
    bytes.u8()?; // NAL unit length size
    let sps_count = bytes.u8()? & 0x1F;
    for _ in 0..sps_count {
        parameter_set(&mut bytes, |header| header & 0x1F, 7, "sequence")?;
    }
    let pps_count = bytes.u8()?;
    for _ in 0..pps_count {
        parameter_set(&mut bytes, |header| header & 0x1F, 8, "picture")?;
    }
    Ok(())
}

/// ISO/IEC 14496-15 §8.3.3: 22 bytes of fields, then arrays of NAL units by type.
fn hevc(body: &[u8]) -> Result<(), String> {
    let mut bytes = Bytes { data: body, pos: 0 };
    // Version 0 was written by early encoders; decoders accept it.
    let version = bytes.u8()?;
    if version > 1 {
        return Err(format!("has version {version} (only 1 exists)"));
    }
    bytes.take(21)?;
    let arrays = bytes.u8()?;
    for _ in 0..arrays {
        let nal_type = bytes.u8()? & 0x3F;
        let count = bytes.u16()?;
        for _ in 0..count {
            parameter_set(
                &mut bytes,
                |header| (header >> 1) & 0x3F,
                nal_type,
                "parameter",
            )?;
        }
    }
    Ok(())
}

/// One length-prefixed NAL unit whose type (read from its first byte by `nal_type`) must be
/// `expected`.
fn parameter_set(
    bytes: &mut Bytes<'_>,
    nal_type: impl Fn(u8) -> u8,
    expected: u8,
    what: &str,
) -> Result<(), String> {
    let at = bytes.pos;
    let len = bytes.u16()?;
    let unit = bytes.take(usize::from(len))?;
    match unit.first() {
        None => Err(format!("holds an empty {what} set at byte {at}")),
        Some(&header) if nal_type(header) != expected => Err(format!(
            "holds a NAL unit of type {} where a {what} set (type {expected}) belongs, at byte {at}",
            nal_type(header)
        )),
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An avcC with one SPS and one PPS.
    fn avcc() -> Vec<u8> {
        let mut body = vec![1, 0x64, 0, 0x1F, 0xFF, 0xE1];
        body.extend_from_slice(&[0, 4, 0x67, 0x64, 0, 0x1F]);
        body.push(1);
        body.extend_from_slice(&[0, 3, 0x68, 0xEE, 0x3C]);
        body
    }

    #[test]
    fn a_well_formed_avcc_passes() {
        assert_eq!(problem(b"avcC", &avcc()), None);
        // Trailing extension bytes (high profiles) are fine.
        let mut extended = avcc();
        extended.extend_from_slice(&[0xFD, 0xF8, 0xF8, 0]);
        assert_eq!(problem(b"avcC", &extended), None);
    }

    #[test]
    fn avcc_damage_is_described() {
        let mut version = avcc();
        version[0] = 0;
        assert!(problem(b"avcC", &version).unwrap().contains("version 0"));
        let cut = &avcc()[..8];
        assert!(problem(b"avcC", cut).unwrap().contains("cut short"));
        let mut wrong_type = avcc();
        wrong_type[8] = 0x65; // an IDR slice where the SPS belongs
        assert!(problem(b"avcC", &wrong_type).unwrap().contains("type 5"));
        let mut long = avcc();
        long[7] = 200;
        assert!(problem(b"avcC", &long).unwrap().contains("cut short"));
        assert!(problem(b"avcC", &[]).unwrap().contains("cut short"));
    }

    #[test]
    fn hvcc_arrays_are_walked() {
        let mut body = vec![1];
        body.extend(vec![0; 21]);
        body.push(2);
        // VPS (type 32): header byte 0x40.
        body.extend_from_slice(&[0x20, 0, 1, 0, 2, 0x40, 0x01]);
        // SPS (type 33): header byte 0x42.
        body.extend_from_slice(&[0x21, 0, 1, 0, 2, 0x42, 0x01]);
        assert_eq!(problem(b"hvcC", &body), None);
        let mut wrong = body.clone();
        wrong[body.len() - 2] = 0x44; // a PPS inside the SPS array
        assert!(problem(b"hvcC", &wrong).is_some());
        assert!(problem(b"hvcC", &body[..body.len() - 1]).is_some());
        let mut version = body;
        version[0] = 7;
        assert!(problem(b"hvcC", &version).is_some());
    }
}
