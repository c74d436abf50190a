//! polyedge native addon: order signing, relay packets, pinning, clocks.

mod abi;
mod eip712;
mod packet;
mod packet_js;
mod signer;
mod sys;
