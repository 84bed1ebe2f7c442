-- Create the tenants schema and its business table: the first example migration.
-- One change per migration; the ROLLBACK block below undoes exactly this change.
CREATE SCHEMA tenants;

CREATE TABLE tenants.business (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE tenants.business IS 'A tenant''s business profile';

-- ROLLBACK:
-- DROP TABLE tenants.business;
-- DROP SCHEMA tenants;
