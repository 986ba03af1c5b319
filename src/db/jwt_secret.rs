//! The shared JWT secret (`jwt_signing_key`, one row): made once, read by every instance.

use tokio_postgres::GenericClient;

/// Length of a generated secret, in bytes.
pub const SECRET_BYTES: usize = 32;

/// The stored secret; when there is none yet, `candidate` is stored and returned. Two instances
/// starting together both end up with the one row that won.
pub async fn load_or_create(
    client: &impl GenericClient,
    candidate: &[u8],
) -> Result<Vec<u8>, tokio_postgres::Error> {
    client
        .execute(
            "INSERT INTO jwt_signing_key (id, secret) VALUES (1, $1) ON CONFLICT (id) DO NOTHING",
            &[&candidate],
        )
        .await?;
    let row = client
        .query_one("SELECT secret FROM jwt_signing_key WHERE id = 1", &[])
        .await?;
    Ok(row.get(0))
}
