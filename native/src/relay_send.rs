//! UDP relay sender: one connected socket, the caller's field and packet
//! arrays bound once, and one zero-allocation call per packet that stamps,
//! encodes and sends. Stamping here, right before sendto, keeps the JS time
//! between the stamp and the wire out of the measured one-way latency.

use std::net::{SocketAddr, UdpSocket};

use napi::bindgen_prelude::{Float64Array, Uint8Array};
use napi::{Error, Result, Status};
use napi_derive::napi;

use crate::mac::MacKey;
use crate::packet::{
    encode_extended, encode_legacy, from_fields, EXTENDED_LEN, EXTENDED_MAC_LEN, FIELD_COUNT, FORMAT_EXTENDED, FORMAT_LEGACY, F_LEN,
    F_SEND_TS_NS, ERR_BAD_VALUE,
};
use crate::sys::realtime_ns;

/// send() results at or below this are send failures: errno = SEND_ERROR_BASE - result.
pub const SEND_ERROR_BASE: i32 = -1000;

#[napi]
pub struct RelaySender {
    sock: Option<UdpSocket>,
    local: String,
    fields: Float64Array,
    packet: Uint8Array,
    key: Option<MacKey>,
}

#[napi]
impl RelaySender {
    /// Connects a UDP socket to `target` ("HOST:PORT", numeric address) from
    /// `bind` (default 0.0.0.0:0 or [::]:0 to match the target) and binds
    /// `fields` (at least 11 slots, packet.rs numbering) and `packet` (at
    /// least 72 bytes; 88 with a MAC key) as this sender's scratch. Do not
    /// transfer or detach their buffers while the sender lives. With
    /// `mac_key_env`, the name of an environment variable holding a hex key
    /// (read here; the key never reaches JS), every extended frame is sealed
    /// with its MAC (mac.rs) and legacy packets are refused.
    #[napi(constructor)]
    pub fn new(target: String, fields: Float64Array, packet: Uint8Array, bind: Option<String>, mac_key_env: Option<String>) -> Result<Self> {
        let invalid = |m: String| Error::new(Status::InvalidArg, m);
        let to: SocketAddr = target.parse().map_err(|_| invalid(format!("target: {target:?} is not ADDR:PORT")))?;
        let from: SocketAddr = match bind {
            Some(b) => b.parse().map_err(|_| invalid(format!("bind: {b:?} is not ADDR:PORT")))?,
            None if to.is_ipv4() => "0.0.0.0:0".parse().map_err(|_| invalid("bind".into()))?,
            None => "[::]:0".parse().map_err(|_| invalid("bind".into()))?,
        };
        if fields.len() < FIELD_COUNT {
            return Err(invalid(format!("fields: needs at least {FIELD_COUNT} slots")));
        }
        let key = match &mac_key_env {
            Some(var) => Some(MacKey::from_env(var).map_err(|e| invalid(format!("macKeyEnv: {e}")))?),
            None => None,
        };
        let need = if key.is_some() { EXTENDED_MAC_LEN } else { EXTENDED_LEN };
        if packet.len() < need {
            return Err(invalid(format!("packet: needs at least {need} bytes")));
        }
        let fail = |what: &str, e: std::io::Error| Error::new(Status::GenericFailure, format!("{what}: {e}"));
        let sock = UdpSocket::bind(from).map_err(|e| fail(&format!("bind {from}"), e))?;
        sock.connect(to).map_err(|e| fail(&format!("connect {to}"), e))?;
        let local = sock.local_addr().map(|a| a.to_string()).unwrap_or_default();
        Ok(RelaySender { sock: Some(sock), local, fields, packet, key })
    }

    /// Stamps fields[5] with CLOCK_REALTIME, encodes the fields as `format`
    /// (1 legacy, 2 extended) into the packet array, sets fields[10] to the
    /// length and sends (88 bytes, sealed, with a MAC key). Returns the bytes sent; a codec error (-1..-7); or
    /// SEND_ERROR_BASE - errno when the socket refused. Never throws.
    #[napi]
    pub fn send(&mut self, format: i32) -> i32 {
        // SAFETY: the sender holds napi references to both arrays, so they
        // live as long as it does, and the constructor's contract (no
        // transfer or detach while the sender lives) keeps their backing
        // stores in place. send() runs synchronously on the JS thread that
        // owns them, so no JS touches them while the slices live; the two are
        // separately allocated (engine/feeds/relay/sender.ts), so they do not overlap.
        let fields = unsafe { self.fields.as_mut() };
        let packet = unsafe { self.packet.as_mut() };
        let mut p = match from_fields(fields) {
            Ok(p) => p,
            Err(code) => return code,
        };
        p.send_ts_ns = realtime_ns();
        let encoded = match (format, &self.key) {
            (FORMAT_LEGACY, None) => encode_legacy(&p, packet),
            (FORMAT_EXTENDED, None) => encode_extended(&p, packet),
            (FORMAT_EXTENDED, Some(k)) => encode_extended(&p, packet).and_then(|_| k.seal(packet)),
            // A legacy packet has no room for a MAC: sending it unsealed would defeat the key.
            _ => Err(ERR_BAD_VALUE),
        };
        let n = match encoded {
            Ok(n) => n,
            Err(code) => return code,
        };
        fields[F_SEND_TS_NS] = p.send_ts_ns as f64;
        fields[F_LEN] = n as f64;
        self.send_bytes(n)
    }

    /// Sends the first `len` bytes of the packet array as they are (replays,
    /// garbage for tests). Same results as send().
    #[napi]
    pub fn send_raw(&mut self, len: u32) -> i32 {
        let n = (len as usize).min(self.packet.len());
        self.send_bytes(n)
    }

    /// The socket's own address, e.g. "10.0.0.1:40112".
    #[napi(getter)]
    pub fn local_address(&self) -> String {
        self.local.clone()
    }

    /// Closes the socket; later sends fail with EBADF. Idempotent.
    #[napi]
    pub fn close(&mut self) {
        self.sock = None;
    }

    fn send_bytes(&self, n: usize) -> i32 {
        let Some(sock) = &self.sock else { return SEND_ERROR_BASE - libc::EBADF };
        match sock.send(&self.packet[..n]) {
            Ok(sent) => sent as i32,
            Err(e) => SEND_ERROR_BASE - e.raw_os_error().unwrap_or(0),
        }
    }
}
