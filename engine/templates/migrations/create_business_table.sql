-- Example migration written by `pgshift init`: create the tenants schema and its business table.
-- Edit it or delete it before you apply it (`pgshift migrate`); once applied, it must not change.
CREATE SCHEMA tenants;

CREATE TABLE tenants.business (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- ROLLBACK:
-- DROP TABLE tenants.business;
-- DROP SCHEMA tenants;
