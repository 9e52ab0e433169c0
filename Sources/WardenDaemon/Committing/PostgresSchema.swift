import Foundation
import Logging
import PostgresNIO

/// The shared ledger's tables, as numbered migrations applied at start-up.
///
/// Several daemons may start at once against one database: the migrations run in one
/// transaction under an advisory lock (`migrationLock`), so one applies them and the
/// others see them done. A database whose schema is newer than this warden knows is
/// refused: an older binary would write rows a newer schema no longer means the same way.
/// Upgrade order (docs/STORAGE.md): stop the old daemons or let them run, start the new
/// version on one host (it migrates), then the others; never start an older one after.
///
/// The tables mirror the SQLite ledger's (`Ledger.migrator`), times as seconds since 1970 in
/// `DOUBLE PRECISION`, like SQLite's REAL: crash recovery matches rows by their exact time.
enum PostgresSchema {
    /// The newest schema this warden knows.
    static var current: Int { migrations.count }

    /// `pg_advisory_xact_lock` key for migrations: an arbitrary constant ("warden" in ASCII).
    static let migrationLock: Int64 = 0x7761_7264_656E

    static let migrations: [[String]] = [
        // 1: strikes, history, escalations, pardons, edits' set-aside rows, shadow guard.
        [
            """
            CREATE TABLE strikes (post_id TEXT NOT NULL, guideline TEXT NOT NULL, author TEXT NOT NULL,
                at DOUBLE PRECISION NOT NULL, PRIMARY KEY (post_id, guideline))
            """,
            "CREATE INDEX strikes_by_author ON strikes(author, at)",
            """
            CREATE TABLE posts (post_id TEXT NOT NULL PRIMARY KEY, author TEXT NOT NULL, at DOUBLE PRECISION NOT NULL,
                digest BIGINT NOT NULL)
            """,
            "CREATE INDEX posts_by_author ON posts(author, at)",
            "CREATE INDEX posts_by_time ON posts(at)",
            """
            CREATE TABLE escalations (post_id TEXT NOT NULL PRIMARY KEY, author TEXT NOT NULL, action TEXT NOT NULL,
                at DOUBLE PRECISION NOT NULL)
            """,
            "CREATE INDEX escalations_by_author ON escalations(author)",
            """
            CREATE TABLE pardons (id BIGSERIAL PRIMARY KEY, author TEXT NOT NULL, guideline TEXT, at DOUBLE PRECISION NOT NULL,
                strikes_removed INTEGER NOT NULL, moderator TEXT, reason TEXT, post_id TEXT, escalation TEXT)
            """,
            """
            CREATE TABLE superseded (post_id TEXT NOT NULL, by_at DOUBLE PRECISION NOT NULL, recorded DOUBLE PRECISION NOT NULL,
                kind TEXT NOT NULL, author TEXT NOT NULL, at DOUBLE PRECISION NOT NULL, guideline TEXT, action TEXT, digest BIGINT)
            """,
            "CREATE INDEX superseded_by_post ON superseded(post_id, by_at)",
            "CREATE INDEX superseded_by_time ON superseded(recorded)",
            "CREATE TABLE rules_seen (rule TEXT NOT NULL PRIMARY KEY, fingerprint TEXT NOT NULL, changed_at DOUBLE PRECISION NOT NULL)",
            "CREATE TABLE rule_confirmations (rule TEXT NOT NULL PRIMARY KEY, at DOUBLE PRECISION NOT NULL)",
            "CREATE TABLE rule_demotions (rule TEXT NOT NULL PRIMARY KEY)",
        ],
        // 2: a post's round trips (docs/STORAGE.md, "Round trips"): functions that take the
        // author's lock and read in one statement, and write or undo a post's rows in one.
        // Only adds: a warden of schema 1 keeps running beside one of schema 2.
        [
            // The author's session-level advisory lock, then the author's past. PL/pgSQL, VOLATILE:
            // the read takes its snapshot after the lock is granted (READ COMMITTED), so it sees
            // every post of the author committed before, on any host. A lock and a read in one
            // plain statement would not: its snapshot is taken before the lock wait.
            """
            CREATE FUNCTION warden_lock_read(p_key BIGINT, p_author TEXT, p_since DOUBLE PRECISION, p_max BIGINT)
                RETURNS TABLE (r_kind TEXT, r_post_id TEXT, r_at DOUBLE PRECISION, r_digest BIGINT, r_text TEXT)
                LANGUAGE plpgsql VOLATILE AS $$
            BEGIN
                PERFORM pg_advisory_lock(p_key);
                RETURN QUERY
                    SELECT 'p'::TEXT, recent.post_id, recent.at, recent.digest, NULL::TEXT FROM (
                        SELECT p.post_id, p.at, p.digest FROM posts p WHERE p.author = p_author AND p.at >= p_since
                        ORDER BY p.at DESC LIMIT p_max) AS recent
                    UNION ALL SELECT 's'::TEXT, s.post_id, s.at, NULL::BIGINT, s.guideline FROM strikes s WHERE s.author = p_author
                    UNION ALL SELECT 'e'::TEXT, e.post_id, e.at, NULL::BIGINT, e.action FROM escalations e WHERE e.author = p_author;
            END
            $$
            """,
            // One judged post's rows, as `PostgresLedger.apply` wrote them statement by statement.
            """
            CREATE FUNCTION warden_record(p_id TEXT, p_author TEXT, p_at DOUBLE PRECISION, p_digest BIGINT, p_guidelines TEXT[],
                p_escalation TEXT, p_replaces BOOLEAN, p_recorded DOUBLE PRECISION) RETURNS VOID LANGUAGE plpgsql VOLATILE AS $$
            BEGIN
                IF p_replaces THEN
                    INSERT INTO superseded(post_id, by_at, recorded, kind, author, at, guideline)
                        SELECT s.post_id, p_at, p_recorded, 'strike', s.author, s.at, s.guideline FROM strikes s WHERE s.post_id = p_id AND s.at <> p_at;
                    INSERT INTO superseded(post_id, by_at, recorded, kind, author, at, digest)
                        SELECT p.post_id, p_at, p_recorded, 'post', p.author, p.at, p.digest FROM posts p WHERE p.post_id = p_id AND p.at <> p_at;
                    INSERT INTO superseded(post_id, by_at, recorded, kind, author, at, action)
                        SELECT e.post_id, p_at, p_recorded, 'escalation', e.author, e.at, e.action FROM escalations e WHERE e.post_id = p_id AND e.at <> p_at;
                END IF;
                DELETE FROM strikes WHERE post_id = p_id;
                INSERT INTO strikes(post_id, guideline, author, at)
                    SELECT DISTINCT p_id, g, p_author, p_at FROM unnest(p_guidelines) AS g
                    ON CONFLICT (post_id, guideline) DO UPDATE SET author = excluded.author, at = excluded.at;
                INSERT INTO posts(post_id, author, at, digest) VALUES (p_id, p_author, p_at, p_digest)
                    ON CONFLICT (post_id) DO UPDATE SET author = excluded.author, at = excluded.at, digest = excluded.digest;
                IF p_escalation IS NOT NULL THEN
                    INSERT INTO escalations(post_id, author, action, at) VALUES (p_id, p_author, p_escalation, p_at)
                        ON CONFLICT (post_id) DO UPDATE SET author = excluded.author, action = excluded.action, at = excluded.at;
                ELSIF p_replaces THEN
                    DELETE FROM escalations WHERE post_id = p_id;
                END IF;
            END
            $$
            """,
            // A post's rows committed, then the author's session lock released: the last round trip
            // of a post (`CALL` outside a transaction block may commit inside). The unlock comes
            // after the commit, so the next host to take the lock reads these rows.
            """
            CREATE PROCEDURE warden_record_unlock(p_key BIGINT, p_id TEXT, p_author TEXT, p_at DOUBLE PRECISION, p_digest BIGINT,
                p_guidelines TEXT[], p_escalation TEXT, p_replaces BOOLEAN, p_recorded DOUBLE PRECISION) LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM warden_record(p_id, p_author, p_at, p_digest, p_guidelines, p_escalation, p_replaces, p_recorded);
                COMMIT;
                IF NOT pg_advisory_unlock(p_key) THEN
                    RAISE EXCEPTION 'warden: the author''s lock % was not held', p_key;
                END IF;
            END
            $$
            """,
            // Several posts of one author, judged in a row under its lock: their rows in order,
            // committed together, then the unlock. Arrays by post; a post's guidelines joined
            // by U+001F, no escalation as ''.
            """
            CREATE PROCEDURE warden_record_all_unlock(p_key BIGINT, p_ids TEXT[], p_author TEXT, p_ats DOUBLE PRECISION[],
                p_digests BIGINT[], p_guidelines TEXT[], p_escalations TEXT[], p_replaces BOOLEAN[], p_recorded DOUBLE PRECISION)
                LANGUAGE plpgsql AS $$
            BEGIN
                FOR i IN 1 .. coalesce(array_length(p_ids, 1), 0) LOOP
                    PERFORM warden_record(p_ids[i], p_author, p_ats[i], p_digests[i], string_to_array(p_guidelines[i], chr(31)),
                        nullif(p_escalations[i], ''), p_replaces[i], p_recorded);
                END LOOP;
                COMMIT;
                IF NOT pg_advisory_unlock(p_key) THEN
                    RAISE EXCEPTION 'warden: the author''s lock % was not held', p_key;
                END IF;
            END
            $$
            """,
            // Undoes one post's rows and puts back what it superseded, as `PostgresLedger.undo` did.
            """
            CREATE FUNCTION warden_undo(p_id TEXT, p_at DOUBLE PRECISION) RETURNS VOID LANGUAGE plpgsql VOLATILE AS $$
            BEGIN
                DELETE FROM strikes WHERE post_id = p_id AND at = p_at;
                DELETE FROM posts WHERE post_id = p_id AND at = p_at;
                DELETE FROM escalations WHERE post_id = p_id AND at = p_at;
                INSERT INTO strikes(post_id, guideline, author, at)
                    SELECT x.post_id, x.guideline, x.author, x.at FROM superseded x WHERE x.post_id = p_id AND x.by_at = p_at AND x.kind = 'strike'
                    ON CONFLICT (post_id, guideline) DO UPDATE SET author = excluded.author, at = excluded.at;
                INSERT INTO posts(post_id, author, at, digest)
                    SELECT x.post_id, x.author, x.at, x.digest FROM superseded x WHERE x.post_id = p_id AND x.by_at = p_at AND x.kind = 'post'
                    ON CONFLICT (post_id) DO UPDATE SET author = excluded.author, at = excluded.at, digest = excluded.digest;
                INSERT INTO escalations(post_id, author, action, at)
                    SELECT x.post_id, x.author, x.action, x.at FROM superseded x WHERE x.post_id = p_id AND x.by_at = p_at AND x.kind = 'escalation'
                    ON CONFLICT (post_id) DO UPDATE SET author = excluded.author, action = excluded.action, at = excluded.at;
                DELETE FROM superseded WHERE post_id = p_id AND by_at = p_at;
            END
            $$
            """,
        ],
        // 3: the review console's tables (PostgresSchema+Review.swift).
        reviewConsole,
    ]

    /// Brings the database to `current`, or refuses a newer one. Returns the version found.
    @discardableResult
    static func migrate(_ sessions: PostgresSessions, known: Int = current, migrations: [[String]] = migrations) throws -> Int {
        let logger = sessions.queryLogger
        return try sessions.withTransaction { connection in
            try connection.run("SELECT pg_advisory_xact_lock(\(migrationLock))", logger: logger)
            try connection.run("""
                CREATE TABLE IF NOT EXISTS warden_schema (version INTEGER NOT NULL PRIMARY KEY,
                    applied_at TIMESTAMPTZ NOT NULL DEFAULT now(), applied_by TEXT NOT NULL)
                """, logger: logger)
            var found = 0
            for row in try connection.run("SELECT COALESCE(MAX(version), 0) FROM warden_schema", logger: logger) {
                found = Int(try row.decode(Int32.self))
            }
            guard found <= known else {
                throw PostgresLedgerError(doing: "use database \(sessions.settings.database)", reason:
                    "its schema is version \(found), newer than this warden knows (\(known)); a newer warden migrated it. Upgrade warden on this host (docs/STORAGE.md, \"Upgrades\"); never run an older one against a newer schema")
            }
            let host = ProcessInfo.processInfo.hostName
            for version in (found + 1)...max(found + 1, known) where version <= known {
                for statement in migrations[version - 1] { try connection.run(PostgresQuery(unsafeSQL: statement), logger: logger) }
                try connection.run("INSERT INTO warden_schema(version, applied_by) VALUES (\(Int32(version)), \(host))", logger: logger)
                logger.notice("applied ledger schema migration", metadata: ["version": "\(version)", "database": "\(sessions.settings.database)"])
            }
            return found
        }
    }
}
