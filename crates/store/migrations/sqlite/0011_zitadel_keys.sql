-- Keys of ZITADEL Actions v2 and of its sign-in flows.

-- Public keys of a target (AddPublicKey): JWE payloads are encrypted to the one active key.
-- The PEM is kept as sent; `expires_at` NULL means it never expires.
CREATE TABLE zitadel_target_public_keys (
    instance_id  TEXT    NOT NULL,
    target_id    TEXT    NOT NULL,
    key_id       TEXT    NOT NULL,
    public_key   TEXT    NOT NULL,
    fingerprint  TEXT    NOT NULL,
    active       INTEGER NOT NULL,
    expires_at   INTEGER,
    created_at   INTEGER NOT NULL,
    changed_at   INTEGER NOT NULL,
    PRIMARY KEY (instance_id, target_id, key_id)
);

-- Web keys of an instance: they sign JWT payloads and are published at /oauth/v2/keys. The
-- private key (PKCS#8 DER) is sealed with the master key; `public_jwk` is the JWK published.
-- `expires_at` NULL marks the current key; a previous key stays published until it expires.
CREATE TABLE instance_web_keys (
    instance_id  TEXT    NOT NULL,
    key_id       TEXT    NOT NULL,
    algorithm    TEXT    NOT NULL,  -- 'RS256' | 'ES256'
    sealed       TEXT    NOT NULL,
    public_jwk   TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    PRIMARY KEY (instance_id, key_id)
);

-- Public keys of API clients for the JWT profile grant (urn:ietf:params:oauth:grant-type:jwt-bearer):
-- the private key exists only in the key file `clients create --key-file` wrote.
CREATE TABLE api_client_keys (
    client_id    TEXT    NOT NULL,
    key_id       TEXT    NOT NULL,
    public_key   TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    PRIMARY KEY (client_id, key_id)
);
