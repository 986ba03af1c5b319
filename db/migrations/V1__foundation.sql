-- V1: the foundation. Later migrations add users (V2), mappings (V3), submissions (V4) and
-- DHIS2 metadata (V5). Only extensions that ship with stock PostgreSQL may be used.

-- DHIS2-style 11-character id: a letter, then 10 letters or digits.
CREATE OR REPLACE FUNCTION generate_uid() RETURNS text AS $$
DECLARE
    letters CONSTANT text := 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
    alnum CONSTANT text := letters || '0123456789';
    uid text;
BEGIN
    uid := substr(letters, 1 + floor(random() * 52)::int, 1);
    FOR i IN 1..10 LOOP
        uid := uid || substr(alnum, 1 + floor(random() * 62)::int, 1);
    END LOOP;
    RETURN uid;
END;
$$ LANGUAGE plpgsql VOLATILE;
