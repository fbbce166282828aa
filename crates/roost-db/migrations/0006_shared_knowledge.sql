-- The operator's shared knowledge base (laws, general practice) lives in a reserved tenant
-- with the nil id, so its rows are keyed like every other tenant's. It has no users and no
-- config; nobody can sign in to it.
INSERT INTO tenants (id, slug, company_name, industry, region, employee_count, contact_name,
    contact_email, contact_phone, tier, created_at)
VALUES ('00000000-0000-0000-0000-000000000000', 'roost-shared', 'Roost shared knowledge',
    'platform', 'global', 1, 'Roost operator', 'operator@roost.invalid', NULL, 'enterprise', 0);
