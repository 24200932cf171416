//! Small JPEG pictures for the HTML report.

use super::raster::Raster;

/// JPEG quality of the report's pictures: small files, faithful enough to judge a frame.
const QUALITY: u8 = 80;

/// `raster` as a JPEG file (empty if it cannot be encoded, which only an empty raster causes).
pub fn jpeg(raster: &Raster) -> Vec<u8> {
    let mut out = Vec::new();
    let (Ok(w), Ok(h)) = (u16::try_from(raster.width), u16::try_from(raster.height)) else {
        return out;
    };
    let encoder = jpeg_encoder::Encoder::new(&mut out, QUALITY);
    if encoder
        .encode(&raster.rgb, w, h, jpeg_encoder::ColorType::Rgb)
        .is_err()
    {
        out.clear();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_a_real_jpeg() {
        let r = Raster::new(16, 8, (0..16 * 8 * 3).map(|i| (i % 251) as u8).collect());
        let bytes = jpeg(&r);
        assert_eq!(&bytes[..3], &[0xFF, 0xD8, 0xFF]);
        assert_eq!(&bytes[bytes.len() - 2..], &[0xFF, 0xD9]);
    }
}
