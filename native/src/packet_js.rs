//! JS bindings of the packet codec over caller-owned typed arrays: no
//! allocation per packet on either side of the boundary.
//!
//! The slices borrow JS memory for the duration of one synchronous call; the
//! caller owns the arrays and no other thread writes them meanwhile (they are
//! per-thread scratch, never a SharedArrayBuffer another thread mutates).

use napi::bindgen_prelude::{Float64ArraySlice, Uint8ArraySlice};
use napi_derive::napi;

use crate::packet::{decode, encode_extended, encode_legacy, from_fields, to_fields};

/// Decodes one packet into `fields` (slot numbers in packet.rs). Returns 1
/// (legacy) or 2 (extended), or a negative error code; never throws.
#[napi]
pub fn decode_packet(packet: Uint8ArraySlice, mut fields: Float64ArraySlice) -> i32 {
    let out = unsafe { fields.as_mut() };
    match decode(&packet).and_then(|p| to_fields(&p, out).map(|_| p.format)) {
        Ok(format) => format,
        Err(code) => code,
    }
}

/// Encodes `fields` as a 24-byte legacy packet into `out`; returns the byte
/// count or a negative error code.
#[napi]
pub fn encode_legacy_packet(fields: Float64ArraySlice, mut out: Uint8ArraySlice) -> i32 {
    let out = unsafe { out.as_mut() };
    match from_fields(&fields).and_then(|p| encode_legacy(&p, out)) {
        Ok(n) => n as i32,
        Err(code) => code,
    }
}

/// Encodes `fields` as a 72-byte extended frame into `out`; returns the byte
/// count or a negative error code.
#[napi]
pub fn encode_extended_packet(fields: Float64ArraySlice, mut out: Uint8ArraySlice) -> i32 {
    let out = unsafe { out.as_mut() };
    match from_fields(&fields).and_then(|p| encode_extended(&p, out)) {
        Ok(n) => n as i32,
        Err(code) => code,
    }
}
