//! Keyed MAC of extended relay frames (packet.rs, FLAG_MAC): the first 16
//! bytes of HMAC-SHA256(key, frame bytes 0..72), appended to the frame.
//!
//! The key comes from an environment variable read here, in native code, the
//! way signer.rs reads the private key: it never becomes a JS string, is
//! never logged, and the copy of the text is zeroed once parsed. It is hex,
//! 16 to 64 bytes (`openssl rand -hex 32` makes one).
//!
//! Replays: a MAC proves who made a frame, not when. The receiver's
//! timestamp window, its per-stream "never older than the last accepted"
//! rule and the sequence check (gate.rs) bound what a recorded frame can do.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::packet::{EXTENDED_LEN, EXTENDED_MAC_LEN, FLAG_MAC, MAC_LEN};

pub const MIN_KEY_BYTES: usize = 16;
pub const MAX_KEY_BYTES: usize = 64;

/// HMAC-SHA256 already keyed: each frame clones the state (the key's inner
/// and outer pads are hashed once, here) instead of re-keying.
#[derive(Clone)]
pub struct MacKey {
    keyed: Hmac<Sha256>,
}

/// Never prints the key.
impl std::fmt::Debug for MacKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MacKey(..)")
    }
}

impl MacKey {
    pub fn from_bytes(key: &[u8]) -> Result<Self, String> {
        if key.len() < MIN_KEY_BYTES || key.len() > MAX_KEY_BYTES {
            return Err(format!("the key must be {MIN_KEY_BYTES} to {MAX_KEY_BYTES} bytes, got {}", key.len()));
        }
        let keyed = <Hmac<Sha256> as Mac>::new_from_slice(key).map_err(|_| "the key was refused".to_string())?;
        Ok(MacKey { keyed })
    }

    /// Hex text (whitespace around it ignored) → key. The messages never quote the text.
    pub fn from_hex(text: &str) -> Result<Self, String> {
        let t = text.trim();
        if t.len() % 2 != 0 || !t.bytes().all(|c| c.is_ascii_hexdigit()) {
            return Err("the key must be hex digits (an even number of them)".into());
        }
        let bytes = Zeroizing::new(
            (0..t.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&t[i..i + 2], 16).unwrap_or(0))
                .collect::<Vec<u8>>(),
        );
        Self::from_bytes(&bytes)
    }

    /// The key from environment variable `variable`; errors name the variable, never its value.
    pub fn from_env(variable: &str) -> Result<Self, String> {
        let value = Zeroizing::new(std::env::var(variable).map_err(|_| format!("{variable}: environment variable is not set"))?);
        Self::from_hex(&value).map_err(|e| format!("{variable}: {e}"))
    }

    fn tag(&self, frame: &[u8]) -> [u8; 32] {
        let mut m = self.keyed.clone();
        m.update(&frame[..EXTENDED_LEN]);
        m.finalize().into_bytes().into()
    }

    /// Turns an encoded 72-byte frame in `out` into an authenticated one:
    /// sets FLAG_MAC and appends the tag. `out` must hold EXTENDED_MAC_LEN.
    pub fn seal(&self, out: &mut [u8]) -> Result<usize, i32> {
        if out.len() < EXTENDED_MAC_LEN {
            return Err(crate::packet::ERR_OUT_TOO_SMALL);
        }
        out[5] |= FLAG_MAC;
        let t = self.tag(out);
        out[EXTENDED_LEN..EXTENDED_MAC_LEN].copy_from_slice(&t[..MAC_LEN]);
        Ok(EXTENDED_MAC_LEN)
    }

    /// True when `frame` is EXTENDED_MAC_LEN bytes and its last 16 are the
    /// tag of the first 72. Constant time in the tag bytes.
    pub fn verify(&self, frame: &[u8]) -> bool {
        if frame.len() != EXTENDED_MAC_LEN {
            return false;
        }
        let mut m = self.keyed.clone();
        m.update(&frame[..EXTENDED_LEN]);
        m.verify_truncated_left(&frame[EXTENDED_LEN..]).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::{decode, encode_extended, Price, FORMAT_EXTENDED};

    const KEY_HEX: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    #[test]
    fn tag_is_truncated_hmac_sha256_of_the_first_72_bytes() {
        // RFC 4231 test case 2 ("Jefe") checks the primitive through our own wrapper.
        let k = MacKey::from_bytes(b"Jefe-Jefe-Jefe-Jefe").unwrap();
        let mut frame = [0u8; EXTENDED_MAC_LEN];
        frame[..EXTENDED_LEN].copy_from_slice(&[0x5a; EXTENDED_LEN]);
        let full = k.tag(&frame);
        let mut direct = <Hmac<Sha256> as Mac>::new_from_slice(b"Jefe-Jefe-Jefe-Jefe").unwrap();
        direct.update(&[0x5a; EXTENDED_LEN]);
        assert_eq!(full, <[u8; 32]>::from(direct.finalize().into_bytes()));
        let jefe = <Hmac<Sha256> as Mac>::new_from_slice(b"Jefe").unwrap().chain_update(b"what do ya want for nothing?").finalize().into_bytes();
        assert_eq!(jefe[..4], [0x5b, 0xdc, 0xc1, 0x46]);
    }

    #[test]
    fn keys_are_checked_and_never_quoted() {
        assert!(MacKey::from_hex(KEY_HEX).is_ok());
        assert!(MacKey::from_hex(&KEY_HEX[..30]).unwrap_err().contains("16 to 64"));
        let e = MacKey::from_hex("zz0102030405060708090a0b0c0d0e0f").err().unwrap();
        assert!(!e.contains("zz01"), "{e}");
        assert!(MacKey::from_env("POLYEDGE_TEST_SURELY_UNSET_KEY").unwrap_err().starts_with("POLYEDGE_TEST_SURELY_UNSET_KEY: "));
    }

    #[test]
    fn sealed_frames_verify_and_decode_with_the_flag() {
        let k = MacKey::from_hex(KEY_HEX).unwrap();
        let p = Price { format: FORMAT_EXTENDED, stream: 3, seq: 9, send_ts_ns: 1, bid: 100.0, ask: 100.5, ..Price::default() };
        let mut out = [0u8; EXTENDED_MAC_LEN];
        encode_extended(&p, &mut out).unwrap();
        assert_eq!(k.seal(&mut out), Ok(EXTENDED_MAC_LEN));
        assert!(k.verify(&out));
        let d = decode(&out).unwrap();
        assert!(d.mac);
        assert_eq!((d.stream, d.seq, d.bid, d.ask), (3, 9, 100.0, 100.5));
        let other = MacKey::from_hex(&KEY_HEX.replace("1f", "20")).unwrap();
        assert!(!other.verify(&out), "another key's receiver refuses the frame");
        assert!(!k.verify(&out[..EXTENDED_LEN]));
    }

    #[test]
    fn every_single_bit_flip_of_a_sealed_frame_fails_verification() {
        let k = MacKey::from_hex(KEY_HEX).unwrap();
        let p = Price { format: FORMAT_EXTENDED, stream: 0, seq: 42, send_ts_ns: 1_700_000_000_000_000_000, bid: 97_000.0, ask: 97_000.1, bid_size: 1.0, ask_size: 2.0, ..Price::default() };
        let mut good = [0u8; EXTENDED_MAC_LEN];
        encode_extended(&p, &mut good).unwrap();
        k.seal(&mut good).unwrap();
        for bit in 0..EXTENDED_MAC_LEN * 8 {
            let mut bad = good;
            bad[bit / 8] ^= 1 << (bit % 8);
            assert!(!k.verify(&bad), "flipping bit {bit} went unnoticed");
        }
    }
}
