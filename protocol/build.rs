//! Compiles `proto/` with protox (pure Rust), so no `protoc` is needed on the machine.

use std::{env, path::PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = [
        "proto/alliance/v1/envelope.proto",
        "proto/alliance/v1/membership.proto",
        "proto/alliance/v1/rpc.proto",
        "proto/alliance/v1/catalogue.proto",
        "proto/alliance/v1/board.proto",
        "proto/alliance/v1/order.proto",
        "proto/alliance/v1/event.proto",
        "proto/alliance/v1/booking.proto",
        "proto/alliance/v1/transparency.proto",
        "proto/alliance/v1/receipt.proto",
        "proto/alliance/v1/publication.proto",
        "proto/alliance/v1/stats.proto",
        "proto/alliance/v1/monitoring.proto",
    ];
    for file in &files {
        println!("cargo:rerun-if-changed={file}");
    }
    let descriptors = protox::compile(files, ["proto"])?;
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    let mut config = prost_build::Config::new();
    // The catalogue's enums appear in the node's JSON API under their snake_case names.
    for name in [
        "ServiceMode",
        "InstrumentStatus",
        "SharingScope",
        "FeeUnit",
        "ReviewVerdict",
        "BookingStatus",
    ] {
        config.type_attribute(
            format!(".alliance.v1.{name}"),
            "#[derive(serde::Serialize, serde::Deserialize)] #[serde(rename_all = \"snake_case\")] \
             #[cfg_attr(feature = \"openapi\", derive(utoipa::ToSchema))]",
        );
    }
    config.out_dir(out_dir).compile_fds(descriptors)?;
    Ok(())
}
