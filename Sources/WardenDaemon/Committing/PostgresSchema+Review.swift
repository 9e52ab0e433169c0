extension PostgresSchema {
    /// Migration 3: the review console's tables (WardenConsole's `PostgresReviewStore`), so
    /// that every instance's console works one queue, one set of users and one audit log.
    /// The same tables and columns as the SQLite store (`SQLiteReviewStore`, its migrations
    /// v1 and v2), so the console's statements are written once; times in seconds since
    /// 1970 as `DOUBLE PRECISION`, lists as ",a,b,". Only adds: a warden of schema 2 keeps
    /// judging beside it (it refuses to start against it, as with every newer schema).
    ///
    /// What is new against one host: `instance` and `ruleset` on each decision and item (who
    /// judged it, with which rules), `instances` (each instance's last ruleset and when its
    /// console last indexed), and one log cursor per instance (`log_cursors`). `sessions.user`
    /// is quoted: USER is a reserved word in PostgreSQL.
    static let reviewConsole: [String] = [
        """
        CREATE TABLE decisions (post_id TEXT NOT NULL PRIMARY KEY, kind TEXT NOT NULL, appeal_of TEXT,
            author TEXT NOT NULL, author_name TEXT, action TEXT NOT NULL, escalation TEXT,
            guidelines TEXT NOT NULL, rules TEXT NOT NULL, decided_at DOUBLE PRECISION NOT NULL,
            text TEXT, line TEXT NOT NULL, instance TEXT, ruleset TEXT)
        """,
        "CREATE INDEX decisions_by_author ON decisions(author, decided_at)",
        "CREATE INDEX decisions_by_time ON decisions(decided_at)",
        """
        CREATE TABLE items (item_id TEXT NOT NULL PRIMARY KEY, post_id TEXT NOT NULL, kind TEXT NOT NULL,
            status TEXT NOT NULL, priority INTEGER NOT NULL, queued_at DOUBLE PRECISION NOT NULL,
            version INTEGER NOT NULL DEFAULT 1, claimed_by TEXT, claimed_until DOUBLE PRECISION,
            resolved_by TEXT, resolved_at DOUBLE PRECISION, outcome TEXT,
            author TEXT NOT NULL, guidelines TEXT NOT NULL, rules TEXT NOT NULL, instance TEXT, ruleset TEXT)
        """,
        "CREATE INDEX items_queue ON items(status, priority, queued_at)",
        "CREATE INDEX items_by_post ON items(post_id)",
        """
        CREATE TABLE reviews (id BIGSERIAL PRIMARY KEY, post_id TEXT NOT NULL, item_id TEXT,
            moderator TEXT NOT NULL, at DOUBLE PRECISION NOT NULL, verdict TEXT NOT NULL, action TEXT NOT NULL,
            labels TEXT NOT NULL, rules TEXT NOT NULL, author TEXT NOT NULL, text TEXT NOT NULL, reason TEXT NOT NULL)
        """,
        "CREATE INDEX reviews_by_post ON reviews(post_id)",
        """
        CREATE TABLE audit (id BIGSERIAL PRIMARY KEY, at DOUBLE PRECISION NOT NULL, moderator TEXT NOT NULL,
            item TEXT NOT NULL, action TEXT NOT NULL, reason TEXT NOT NULL, before TEXT NOT NULL, after TEXT NOT NULL)
        """,
        // Append-only, as SQLite's triggers: UPDATE, DELETE and TRUNCATE raise, for every role
        // (the table's owner too, which REVOKE alone would not stop).
        """
        CREATE FUNCTION warden_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'the audit log is append-only';
        END
        $$
        """,
        """
        CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit
            FOR EACH ROW EXECUTE FUNCTION warden_audit_append_only()
        """,
        """
        CREATE TRIGGER audit_append_only_truncate BEFORE TRUNCATE ON audit
            FOR EACH STATEMENT EXECUTE FUNCTION warden_audit_append_only()
        """,
        "CREATE TABLE rule_hits (rule TEXT NOT NULL PRIMARY KEY, hits BIGINT NOT NULL)",
        "CREATE TABLE users (name TEXT NOT NULL PRIMARY KEY, role TEXT NOT NULL, hash TEXT NOT NULL, created_at DOUBLE PRECISION NOT NULL)",
        """
        CREATE TABLE sessions (token_hash TEXT NOT NULL PRIMARY KEY, "user" TEXT NOT NULL, csrf TEXT NOT NULL,
            created_at DOUBLE PRECISION NOT NULL, expires_at DOUBLE PRECISION NOT NULL)
        """,
        "CREATE TABLE login_failures (key TEXT NOT NULL, at DOUBLE PRECISION NOT NULL)",
        "CREATE INDEX login_failures_by_key ON login_failures(key, at)",
        "CREATE TABLE instances (name TEXT NOT NULL PRIMARY KEY, ruleset TEXT, last_seen DOUBLE PRECISION NOT NULL, last_decided_at DOUBLE PRECISION)",
        "CREATE TABLE log_cursors (instance TEXT NOT NULL PRIMARY KEY, inode BIGINT NOT NULL, byte_offset BIGINT NOT NULL)",
    ]
}
