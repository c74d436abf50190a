//! Parsing of the textual order fields into their 32-byte ABI words.
//!
//! Every parser names the field it failed on, so the error that reaches the
//! user says which input was wrong and why, never just "invalid".

use sha3::{Digest, Keccak256};

pub type Word = [u8; 32];

pub fn keccak(data: &[u8]) -> Word {
    let mut h = Keccak256::new();
    h.update(data);
    h.finalize().into()
}

/// Keccak of several slices without concatenating them first.
pub fn keccak_parts(parts: &[&[u8]]) -> Word {
    let mut h = Keccak256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

pub fn field_error(field: &str, reason: &str) -> String {
    format!("{field}: {reason}")
}

/// A base-10 unsigned integer of at most 256 bits, big-endian in the word.
pub fn parse_uint256(field: &str, text: &str) -> Result<Word, String> {
    if text.is_empty() {
        return Err(field_error(field, "must be a decimal integer, got an empty string"));
    }
    if text.len() > 78 {
        return Err(field_error(field, "does not fit in uint256"));
    }
    // Four 64-bit limbs, least significant first; multiply by ten and add.
    let mut limbs = [0u64; 4];
    for ch in text.bytes() {
        if !ch.is_ascii_digit() {
            return Err(field_error(field, "must be a decimal integer (digits only)"));
        }
        let mut carry = (ch - b'0') as u128;
        for limb in limbs.iter_mut() {
            let v = (*limb as u128) * 10 + carry;
            *limb = v as u64;
            carry = v >> 64;
        }
        if carry != 0 {
            return Err(field_error(field, "does not fit in uint256"));
        }
    }
    let mut out = [0u8; 32];
    for (i, limb) in limbs.iter().enumerate() {
        out[32 - 8 * (i + 1)..32 - 8 * i].copy_from_slice(&limb.to_be_bytes());
    }
    Ok(out)
}

pub fn uint_word(value: u64) -> Word {
    let mut out = [0u8; 32];
    out[24..].copy_from_slice(&value.to_be_bytes());
    out
}

fn hex_nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// `0x` followed by exactly `2 * N` hex digits.
pub fn parse_hex_fixed<const N: usize>(field: &str, text: &str) -> Result<[u8; N], String> {
    let digits = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .ok_or_else(|| field_error(field, "must start with 0x"))?;
    if digits.len() != 2 * N {
        return Err(field_error(
            field,
            &format!("must be 0x followed by {} hex digits, got {}", 2 * N, digits.len()),
        ));
    }
    let bytes = digits.as_bytes();
    let mut out = [0u8; N];
    for i in 0..N {
        match (hex_nibble(bytes[2 * i]), hex_nibble(bytes[2 * i + 1])) {
            (Some(hi), Some(lo)) => out[i] = (hi << 4) | lo,
            _ => return Err(field_error(field, "contains a non-hex character")),
        }
    }
    Ok(out)
}

/// Addresses are accepted in any letter case: the EIP-712 encoding uses the
/// 20 bytes, and rejecting a lower-case address would only annoy users.
pub fn parse_address(field: &str, text: &str) -> Result<Word, String> {
    let raw: [u8; 20] = parse_hex_fixed(field, text)?;
    let mut out = [0u8; 32];
    out[12..].copy_from_slice(&raw);
    Ok(out)
}

pub fn parse_bytes32(field: &str, text: Option<&str>) -> Result<Word, String> {
    match text {
        None => Ok([0u8; 32]),
        Some(t) => parse_hex_fixed::<32>(field, t),
    }
}

pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(2 + bytes.len() * 2);
    s.push_str("0x");
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// EIP-55 mixed-case checksum encoding of a 20-byte address.
pub fn checksum_address(addr: &[u8; 20]) -> String {
    let lower = to_hex(addr);
    let hash = keccak(&lower.as_bytes()[2..]);
    let mut out = String::with_capacity(42);
    out.push_str("0x");
    for (i, ch) in lower[2..].chars().enumerate() {
        let nibble = (hash[i / 2] >> (if i % 2 == 0 { 4 } else { 0 })) & 0xf;
        if ch.is_ascii_alphabetic() && nibble >= 8 {
            out.push(ch.to_ascii_uppercase());
        } else {
            out.push(ch);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uint256_round_trips_extremes() {
        let max = "115792089237316195423570985008687907853269984665640564039457584007913129639935";
        assert_eq!(parse_uint256("x", max).unwrap(), [0xffu8; 32]);
        assert!(parse_uint256(
            "x",
            "115792089237316195423570985008687907853269984665640564039457584007913129639936"
        )
        .is_err());
        assert_eq!(parse_uint256("x", "258").unwrap()[30..], [1, 2]);
        assert!(parse_uint256("x", "-1").is_err());
        assert!(parse_uint256("x", "").is_err());
        assert!(parse_uint256("x", "1e5").is_err());
    }

    #[test]
    fn address_checks_length_and_digits() {
        assert!(parse_address("maker", "0x1234").is_err());
        assert!(parse_address("maker", "f39Fd6e51aad88F6F4ce6aB8827279cffFb92266").is_err());
        assert!(parse_address("maker", "0xg39Fd6e51aad88F6F4ce6aB8827279cffFb92266").is_err());
        let a = parse_address("maker", "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266").unwrap();
        let mut raw = [0u8; 20];
        raw.copy_from_slice(&a[12..]);
        assert_eq!(checksum_address(&raw), "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
    }
}
