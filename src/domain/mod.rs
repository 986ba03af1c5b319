//! Domain newtypes parsed at the boundary: past `parse`, code only sees valid values.
