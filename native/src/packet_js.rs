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
    // SAFETY: the slice borrows JS memory for this synchronous call only: no
    // JS runs until we return, and the arrays are the caller's per-thread
    // scratch (never a SharedArrayBuffer another thread writes), so this
    // mutable slice is the only access to its bytes. The callers
    // (engine/feeds/relay/packet.ts) pass two separately allocated arrays, so it
    // does not overlap the other argument.
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
    // SAFETY: the slice borrows JS memory for this synchronous call only: no
    // JS runs until we return, and the arrays are the caller's per-thread
    // scratch (never a SharedArrayBuffer another thread writes), so this
    // mutable slice is the only access to its bytes. The callers
    // (engine/feeds/relay/packet.ts) pass two separately allocated arrays, so it
    // does not overlap the other argument.
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
    // SAFETY: the slice borrows JS memory for this synchronous call only: no
    // JS runs until we return, and the arrays are the caller's per-thread
    // scratch (never a SharedArrayBuffer another thread writes), so this
    // mutable slice is the only access to its bytes. The callers
    // (engine/feeds/relay/packet.ts) pass two separately allocated arrays, so it
    // does not overlap the other argument.
    let out = unsafe { out.as_mut() };
    match from_fields(&fields).and_then(|p| encode_extended(&p, out)) {
        Ok(n) => n as i32,
        Err(code) => code,
    }
}


// Scratch binding. A napi-rs call costs ~40 ns with no arguments and
// ~40-60 ns more per typed-array argument (measured on this machine), which
// is more than the codec itself. So a hot loop binds its field array and
// packet buffer once per thread and then calls the zero-argument functions
// below. The binding holds napi references, so the arrays stay alive; it is
// leaked at thread exit on purpose (the env is gone by then, there is nothing
// safe to release them to).

use napi::bindgen_prelude::{Float64Array, Uint8Array};
use napi::{Error, Result, Status};
use std::cell::RefCell;
use std::mem::ManuallyDrop;

use crate::packet::{EXTENDED_LEN, F_LEN, FIELD_COUNT};

struct Scratch {
    fields: Float64Array,
    packet: Uint8Array,
}

thread_local! {
    static SCRATCH: RefCell<Option<ManuallyDrop<Scratch>>> = const { RefCell::new(None) };
}

/// Binds this thread's scratch arrays: `fields` (at least 11 slots; slot 10
/// is the packet length) and `packet` (at least 72 bytes). Do not transfer
/// or detach their ArrayBuffers while bound.
#[napi]
pub fn bind_packet_scratch(fields: Float64Array, packet: Uint8Array) -> Result<()> {
    if fields.len() < FIELD_COUNT {
        return Err(Error::new(Status::InvalidArg, format!("fields: needs at least {FIELD_COUNT} slots")));
    }
    if packet.len() < EXTENDED_LEN {
        return Err(Error::new(Status::InvalidArg, format!("packet: needs at least {EXTENDED_LEN} bytes")));
    }
    SCRATCH.with(|cell| {
        if let Some(old) = cell.borrow_mut().replace(ManuallyDrop::new(Scratch { fields, packet })) {
            drop(ManuallyDrop::into_inner(old));
        }
    });
    Ok(())
}

fn with_scratch(f: impl FnOnce(&mut [f64], &mut [u8]) -> i32) -> i32 {
    SCRATCH.with(|cell| match cell.borrow_mut().as_mut() {
        Some(s) => {
            let s: &mut Scratch = s;
            // SAFETY: the napi references in Scratch keep both arrays alive,
            // and bind_packet_scratch's contract (no transfer or detach while
            // bound) keeps their backing stores in place. This runs
            // synchronously on the thread that bound them, so no JS touches
            // them while the slices live. The two slices must not overlap:
            // callers bind two separately allocated arrays (bench/packet.ts,
            // packet.test.ts).
            let fields = unsafe { s.fields.as_mut() };
            let packet = unsafe { s.packet.as_mut() };
            f(fields, packet)
        }
        None => crate::packet::ERR_FIELDS,
    })
}

fn encode_scratch(encode: fn(&crate::packet::Price, &mut [u8]) -> std::result::Result<usize, i32>) -> i32 {
    with_scratch(|fields, packet| match from_fields(fields).and_then(|p| encode(&p, packet)) {
        Ok(n) => {
            fields[F_LEN] = n as f64;
            n as i32
        }
        Err(code) => code,
    })
}

/// Encodes the bound fields as a legacy packet into the bound buffer.
#[napi]
pub fn encode_scratch_legacy() -> i32 {
    encode_scratch(encode_legacy)
}

/// Encodes the bound fields as an extended frame into the bound buffer.
#[napi]
pub fn encode_scratch_extended() -> i32 {
    encode_scratch(encode_extended)
}

/// Decodes the first `fields[10]` bytes of the bound buffer into the bound fields.
#[napi]
pub fn decode_scratch() -> i32 {
    with_scratch(|fields, packet| {
        let len = fields[F_LEN];
        if !(len >= 0.0 && (len as usize) <= packet.len()) {
            return crate::packet::ERR_BAD_LENGTH;
        }
        match decode(&packet[..len as usize]).and_then(|p| to_fields(&p, fields).map(|_| p.format)) {
            Ok(format) => format,
            Err(code) => code,
        }
    })
}
