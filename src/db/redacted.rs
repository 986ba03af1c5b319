//! [`Redacted`]: a text query parameter that prints as `"***"`. tokio-postgres logs every
//! statement's parameters at debug level, so password hashes and token digests are bound
//! through this wrapper and never reach a log, whatever `log.level` says.

use std::error::Error;
use std::fmt;

use tokio_postgres::types::private::BytesMut;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};

pub struct Redacted<'a>(pub &'a str);

impl fmt::Debug for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"***\"")
    }
}

impl ToSql for Redacted<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        self.0.to_sql(ty, out)
    }

    fn accepts(ty: &Type) -> bool {
        <&str as ToSql>::accepts(ty)
    }

    to_sql_checked!();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_value() {
        let p: &(dyn ToSql + Sync) = &Redacted("$argon2id$secret");
        assert_eq!(format!("{p:?}"), "\"***\"");
    }
}
