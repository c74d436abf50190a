//! UDP relay price packets.
//!
//! Legacy (24 bytes, little-endian; what existing Tokyo senders emit):
//!
//! ```text
//!  0        8        16       24
//!  +--------+--------+--------+
//!  |ts_us u64|bid f64 |ask f64 |
//!  +--------+--------+--------+
//! ```
//!
//! Extended (72 bytes, little-endian, ours): adds what a receiver needs to
//! detect loss and to split latency into its legs.
//!
//! ```text
//!  0 magic "PEDG" | 4 version u8 | 5 flags u8 | 6 stream u16
//!  8 seq u64 | 16 exchange_ts_ns u64 | 24 recv_ts_ns u64 | 32 send_ts_ns u64
//! 40 bid f64 | 48 ask f64 | 56 bid_size f64 | 64 ask_size f64
//! 72 mac [16]  (only with flag bit 0, FLAG_MAC: 88 bytes in all)
//! ```
//!
//! Flags: bit 0 (FLAG_MAC) says a MAC follows: the first 16 bytes of
//! HMAC-SHA256(key, bytes 0..72), the flags byte included, so the bit cannot
//! be stripped or set by anyone without the key. Other bits are reserved and
//! a frame carrying one is refused (ERR_BAD_FLAGS). See mac.rs.
//!
//! The JS side exchanges fields through one preallocated Float64Array (slot
//! numbers below) so that encode and decode allocate nothing. Timestamps in
//! that array are nanoseconds as f64: at today's epoch that keeps 256 ns of
//! resolution, far below the microseconds a relay hop takes; the native
//! receive loop keeps full u64 values.

pub const LEGACY_LEN: usize = 24;
pub const EXTENDED_LEN: usize = 72;
pub const MAGIC: [u8; 4] = *b"PEDG";
pub const FLAG_MAC: u8 = 0x01;
pub const MAC_LEN: usize = 16;
/// An extended frame with its MAC: the longest valid datagram.
pub const EXTENDED_MAC_LEN: usize = EXTENDED_LEN + MAC_LEN;
pub const VERSION: u8 = 1;

pub const F_FORMAT: usize = 0;
pub const F_STREAM: usize = 1;
pub const F_SEQ: usize = 2;
pub const F_EXCHANGE_TS_NS: usize = 3;
pub const F_RECV_TS_NS: usize = 4;
pub const F_SEND_TS_NS: usize = 5;
pub const F_BID: usize = 6;
pub const F_ASK: usize = 7;
pub const F_BID_SIZE: usize = 8;
pub const F_ASK_SIZE: usize = 9;
/// Packet length: the input of a scratch decode, the output of a scratch encode.
pub const F_LEN: usize = 10;
pub const FIELD_COUNT: usize = 11;

pub const FORMAT_LEGACY: i32 = 1;
pub const FORMAT_EXTENDED: i32 = 2;

/// Negative results of encode/decode; the JS error catalog maps each to a
/// stable code.
pub const ERR_TOO_SHORT: i32 = -1;
pub const ERR_BAD_MAGIC: i32 = -2;
pub const ERR_BAD_VERSION: i32 = -3;
pub const ERR_BAD_LENGTH: i32 = -4;
pub const ERR_BAD_VALUE: i32 = -5;
pub const ERR_FIELDS: i32 = -6;
pub const ERR_OUT_TOO_SMALL: i32 = -7;
pub const ERR_BAD_FLAGS: i32 = -8;

#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Price {
    pub format: i32,
    pub stream: u16,
    pub seq: u64,
    pub exchange_ts_ns: u64,
    pub recv_ts_ns: u64,
    /// For legacy packets: ts_micros × 1000.
    pub send_ts_ns: u64,
    pub bid: f64,
    pub ask: f64,
    pub bid_size: f64,
    pub ask_size: f64,
    /// Extended frame with FLAG_MAC (and its 16 MAC bytes); decode does not
    /// verify it, the receiver does (mac.rs).
    pub mac: bool,
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap_or([0; 8]))
}

fn f64_at(b: &[u8], at: usize) -> f64 {
    f64::from_le_bytes(b[at..at + 8].try_into().unwrap_or([0; 8]))
}

pub(crate) fn plausible_price(v: f64) -> bool {
    v.is_finite() && v >= 0.0
}

/// Structure only (length, magic, version, flags): the values are whatever
/// the bytes say. The receiver verifies the MAC on this before it judges
/// values (gate.rs); everyone else uses decode(). Never panics: every index
/// is behind a length check.
pub fn decode_frame(b: &[u8]) -> Result<Price, i32> {
    if b.len() < LEGACY_LEN {
        return Err(ERR_TOO_SHORT);
    }
    if b[0..4] == MAGIC {
        if b.len() < EXTENDED_LEN {
            return Err(ERR_TOO_SHORT);
        }
        if b[4] != VERSION {
            return Err(ERR_BAD_VERSION);
        }
        let flags = b[5];
        if flags & !FLAG_MAC != 0 {
            return Err(ERR_BAD_FLAGS);
        }
        let mac = flags & FLAG_MAC != 0;
        let want = if mac { EXTENDED_MAC_LEN } else { EXTENDED_LEN };
        if b.len() != want {
            return Err(if b.len() < want { ERR_TOO_SHORT } else { ERR_BAD_LENGTH });
        }
        return Ok(Price {
            format: FORMAT_EXTENDED,
            stream: u16::from_le_bytes([b[6], b[7]]),
            seq: u64_at(b, 8),
            exchange_ts_ns: u64_at(b, 16),
            recv_ts_ns: u64_at(b, 24),
            send_ts_ns: u64_at(b, 32),
            bid: f64_at(b, 40),
            ask: f64_at(b, 48),
            bid_size: f64_at(b, 56),
            ask_size: f64_at(b, 64),
            mac,
        });
    }
    if b.len() != LEGACY_LEN {
        return Err(ERR_BAD_MAGIC);
    }
    Ok(Price {
        format: FORMAT_LEGACY,
        send_ts_ns: u64_at(b, 0).saturating_mul(1000),
        bid: f64_at(b, 8),
        ask: f64_at(b, 16),
        ..Price::default()
    })
}

/// decode_frame, then finite non-negative values.
pub fn decode(b: &[u8]) -> Result<Price, i32> {
    let p = decode_frame(b)?;
    if !(plausible_price(p.bid) && plausible_price(p.ask) && plausible_price(p.bid_size) && plausible_price(p.ask_size)) {
        return Err(ERR_BAD_VALUE);
    }
    Ok(p)
}

pub fn encode_legacy(p: &Price, out: &mut [u8]) -> Result<usize, i32> {
    if out.len() < LEGACY_LEN {
        return Err(ERR_OUT_TOO_SMALL);
    }
    if !(plausible_price(p.bid) && plausible_price(p.ask)) {
        return Err(ERR_BAD_VALUE);
    }
    out[0..8].copy_from_slice(&(p.send_ts_ns / 1000).to_le_bytes());
    out[8..16].copy_from_slice(&p.bid.to_le_bytes());
    out[16..24].copy_from_slice(&p.ask.to_le_bytes());
    Ok(LEGACY_LEN)
}

pub fn encode_extended(p: &Price, out: &mut [u8]) -> Result<usize, i32> {
    if out.len() < EXTENDED_LEN {
        return Err(ERR_OUT_TOO_SMALL);
    }
    if !(plausible_price(p.bid) && plausible_price(p.ask) && plausible_price(p.bid_size) && plausible_price(p.ask_size)) {
        return Err(ERR_BAD_VALUE);
    }
    out[0..4].copy_from_slice(&MAGIC);
    out[4] = VERSION;
    // The MAC flag is set by mac.rs after this, before it computes the tag.
    out[5] = 0;
    out[6..8].copy_from_slice(&p.stream.to_le_bytes());
    out[8..16].copy_from_slice(&p.seq.to_le_bytes());
    out[16..24].copy_from_slice(&p.exchange_ts_ns.to_le_bytes());
    out[24..32].copy_from_slice(&p.recv_ts_ns.to_le_bytes());
    out[32..40].copy_from_slice(&p.send_ts_ns.to_le_bytes());
    out[40..48].copy_from_slice(&p.bid.to_le_bytes());
    out[48..56].copy_from_slice(&p.ask.to_le_bytes());
    out[56..64].copy_from_slice(&p.bid_size.to_le_bytes());
    out[64..72].copy_from_slice(&p.ask_size.to_le_bytes());
    Ok(EXTENDED_LEN)
}

/// f64 → u64 for an integer-valued field; rejects NaN, negatives and
/// values past 2^64 instead of saturating silently.
fn whole(v: f64) -> Result<u64, i32> {
    if v.is_finite() && v >= 0.0 && v < 18_446_744_073_709_551_616.0 {
        Ok(v as u64)
    } else {
        Err(ERR_BAD_VALUE)
    }
}

pub fn from_fields(f: &[f64]) -> Result<Price, i32> {
    if f.len() < FIELD_COUNT {
        return Err(ERR_FIELDS);
    }
    let stream = whole(f[F_STREAM])?;
    if stream > u16::MAX as u64 {
        return Err(ERR_BAD_VALUE);
    }
    Ok(Price {
        format: 0,
        stream: stream as u16,
        seq: whole(f[F_SEQ])?,
        exchange_ts_ns: whole(f[F_EXCHANGE_TS_NS])?,
        recv_ts_ns: whole(f[F_RECV_TS_NS])?,
        send_ts_ns: whole(f[F_SEND_TS_NS])?,
        bid: f[F_BID],
        ask: f[F_ASK],
        bid_size: f[F_BID_SIZE],
        ask_size: f[F_ASK_SIZE],
        mac: false,
    })
}

pub fn to_fields(p: &Price, f: &mut [f64]) -> Result<(), i32> {
    if f.len() < FIELD_COUNT {
        return Err(ERR_FIELDS);
    }
    f[F_FORMAT] = p.format as f64;
    f[F_STREAM] = p.stream as f64;
    f[F_SEQ] = p.seq as f64;
    f[F_EXCHANGE_TS_NS] = p.exchange_ts_ns as f64;
    f[F_RECV_TS_NS] = p.recv_ts_ns as f64;
    f[F_SEND_TS_NS] = p.send_ts_ns as f64;
    f[F_BID] = p.bid;
    f[F_ASK] = p.ask;
    f[F_BID_SIZE] = p.bid_size;
    f[F_ASK_SIZE] = p.ask_size;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_layout_is_the_documented_one() {
        let mut raw = [0u8; 24];
        raw[0..8].copy_from_slice(&1_732_180_000_123_456u64.to_le_bytes());
        raw[8..16].copy_from_slice(&97_123.5f64.to_le_bytes());
        raw[16..24].copy_from_slice(&97_124.25f64.to_le_bytes());
        let p = decode(&raw).unwrap();
        assert_eq!(p.format, FORMAT_LEGACY);
        assert_eq!(p.send_ts_ns, 1_732_180_000_123_456_000);
        assert_eq!((p.bid, p.ask), (97_123.5, 97_124.25));
        let mut again = [0u8; 24];
        encode_legacy(&p, &mut again).unwrap();
        assert_eq!(raw, again);
    }

    #[test]
    fn garbage_never_panics() {
        let mut seed = 0x9e3779b97f4a7c15u64;
        for len in 0..200usize {
            let mut buf = vec![0u8; len];
            for b in buf.iter_mut() {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                *b = seed as u8;
            }
            if len >= 4 && len % 3 == 0 {
                buf[0..4].copy_from_slice(&MAGIC);
            }
            let _ = decode(&buf);
        }
        assert_eq!(decode(&[0u8; 10]), Err(ERR_TOO_SHORT));
        assert_eq!(decode(&[1u8; 30]), Err(ERR_BAD_MAGIC));
    }
}
