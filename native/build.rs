// napi-rs build script: the platform link settings a Node addon needs.
fn main() {
    napi_build::setup();
}
