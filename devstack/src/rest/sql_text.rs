//! Quoting for the only two ways text from a request reaches SQL: as an identifier and as a
//! literal. Everything the SQL builders write out goes through one of these two functions.

/// `name` as a quoted identifier: `"` doubled, so no name can end the quoting.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `schema.name`, both quoted.
pub fn qualified(schema: &str, name: &str) -> String {
    format!("{}.{}", ident(schema), ident(name))
}

/// `value` as a string literal of unknown type, so Postgres coerces it to whatever it is
/// compared with, exactly as PostgREST's untyped parameters are. Quotes are doubled and, when
/// there is a backslash, the `E''` form with doubled backslashes is used, so the result means
/// the same text whatever `standard_conforming_strings` is (what libpq's `PQescapeLiteral` does).
/// NUL bytes cannot be stored in Postgres text; the query-string decoder refuses them.
pub fn literal(value: &str) -> String {
    let quoted = value.replace('\'', "''");
    if quoted.contains('\\') {
        format!("E'{}'", quoted.replace('\\', "\\\\"))
    } else {
        format!("'{quoted}'")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_cannot_escape_their_quotes() {
        assert_eq!(ident("todos"), "\"todos\"");
        assert_eq!(ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(
            ident("x\"; DROP TABLE todos; --"),
            "\"x\"\"; DROP TABLE todos; --\""
        );
        assert_eq!(qualified("public", "t"), "\"public\".\"t\"");
    }

    #[test]
    fn literals_cannot_escape_their_quotes() {
        assert_eq!(literal("abc"), "'abc'");
        assert_eq!(literal("o'clock"), "'o''clock'");
        assert_eq!(literal("1'; DROP TABLE x; --"), "'1''; DROP TABLE x; --'");
        assert_eq!(literal("back\\slash'"), "E'back\\\\slash'''");
        assert_eq!(literal(""), "''");
    }
}
