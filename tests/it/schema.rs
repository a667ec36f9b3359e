//! `schema/schema.graphql` is exactly what the code exports. Regenerate with
//! `INNOGRAPH_UPDATE_SCHEMA=1 cargo test --test it schema`.

use std::path::Path;

#[test]
fn the_checked_in_schema_matches_the_code() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/schema.graphql");
    let exported = innograph::graphql::sdl();
    if std::env::var_os("INNOGRAPH_UPDATE_SCHEMA").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &exported).unwrap();
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == exported,
        "schema/schema.graphql is out of date; run `INNOGRAPH_UPDATE_SCHEMA=1 cargo test --test it schema` and commit it"
    );
}
