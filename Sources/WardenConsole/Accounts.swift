import Crypto
import Foundation
import HummingbirdBcrypt

/// What a console user may do. Admins also manage users and confirm demoted rules.
public enum Role: String, Sendable, CaseIterable {
    case moderator, admin
}

public struct User: Sendable, Equatable {
    public var name: String
    public var role: Role
}

/// A logged-in browser: the cookie carries a random token; the database keeps only its
/// SHA-256, so a copy of the review store does not let anyone in.
public struct Session: Sendable, Equatable {
    public var user: User
    public var csrf: String
    public var tokenHash: String
    public var expiresAt: Date
}

/// Users (bcrypt password hashes), sessions, and login throttling.
public struct Accounts: Sendable {
    let store: any ReviewStore
    /// A session ends after this much idle time…
    public var idleTimeout: TimeInterval = 30 * 60
    /// …and at the latest this long after login.
    public var absoluteTimeout: TimeInterval = 12 * 3600
    /// Failed logins allowed per user name and per client address inside `throttleWindow`.
    public var maxFailures = 5
    public var throttleWindow: TimeInterval = 15 * 60
    /// bcrypt cost: 2^cost rounds (about 60 ms at 10 on this hardware class).
    public var bcryptCost: UInt8 = 10

    public init(store: any ReviewStore) { self.store = store }

    // MARK: Users

    static func validName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 64 && name.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || "._-@".unicodeScalars.contains($0) }
    }

    /// Adds a user; fails if the name is taken or not 1–64 of letters, digits and `._-@`.
    public func add(name: String, role: Role, password: String) throws {
        guard Self.validName(name) else { throw ConsoleError("a user name is 1 to 64 letters, digits or . _ - @; got \"\(name)\"") }
        guard password.count >= 12 else { throw ConsoleError("a password must be at least 12 characters") }
        let hash = Bcrypt.hash(password, cost: bcryptCost)
        try store.write { db in
            // ON CONFLICT DO NOTHING: two hosts adding one name at once give one user and one clear refusal.
            let added = try db.execute("INSERT INTO users(name, role, hash, created_at) VALUES (?, ?, ?, ?) ON CONFLICT(name) DO NOTHING",
                                       [name, role.rawValue, hash, Date().timeIntervalSince1970])
            if added == 0 {
                throw ConsoleError("user \"\(name)\" already exists (use `warden users reset \(name)` for a new password)")
            }
        }
    }

    /// Removes a user and ends their sessions.
    public func remove(name: String) throws {
        try store.write { db in
            guard try db.execute("DELETE FROM users WHERE name = ?", [name]) > 0 else { throw ConsoleError("there is no user \"\(name)\"") }
            try db.execute("DELETE FROM sessions WHERE \"user\" = ?", [name])
        }
    }

    /// Sets a new password (and optionally a new role) and ends the user's sessions.
    public func reset(name: String, password: String, role: Role? = nil) throws {
        guard password.count >= 12 else { throw ConsoleError("a password must be at least 12 characters") }
        let hash = Bcrypt.hash(password, cost: bcryptCost)
        try store.write { db in
            guard try db.execute("UPDATE users SET hash = ?, role = COALESCE(?, role) WHERE name = ?", [hash, role?.rawValue, name]) > 0 else {
                throw ConsoleError("there is no user \"\(name)\"")
            }
            try db.execute("DELETE FROM sessions WHERE \"user\" = ?", [name])
        }
    }

    public func users() throws -> [User] {
        try store.read { db in
            try db.rows("SELECT name, role FROM users ORDER BY name").map {
                User(name: try $0["name"], role: Role(rawValue: try $0["role"]) ?? .moderator)
            }
        }
    }

    /// A password of 20 characters from a 57-symbol alphabet without look-alikes (~116 bits).
    public static func generatePassword() -> String {
        let alphabet = Array("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<20).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
    }

    // MARK: Login

    public enum LoginResult: Sendable, Equatable {
        case success(token: String, session: Session)
        case wrong
        case throttled(retryAfter: TimeInterval)
    }

    /// Checks a password, throttled per user name and per client address: after
    /// `maxFailures` failures inside `throttleWindow` every attempt is refused (even a right
    /// password) until the window passes, so guessing costs hours, not seconds.
    public func login(name: String, password: String, client: String, now: Date = Date()) async throws -> LoginResult {
        let keys = ["user:" + name, "addr:" + client]
        let since = now.timeIntervalSince1970 - throttleWindow
        let failures = try await store.readAsync { db in
            try keys.map { key -> (count: Int, first: Double?) in
                let row = try db.row("SELECT COUNT(*) AS n, MIN(at) AS first FROM login_failures WHERE key = ? AND at > ?", [key, since])
                let count: Int = try row.map { try $0["n"] } ?? 0
                let first: Double? = try row.flatMap { try $0["first"] as Double? }
                return (count, first)
            }
        }
        for failure in failures where failure.count >= maxFailures {
            let first = failure.first ?? now.timeIntervalSince1970
            return .throttled(retryAfter: max(1, first + throttleWindow - now.timeIntervalSince1970))
        }
        let stored = try await store.readAsync { db -> (hash: String, role: String)? in
            try db.row("SELECT hash, role FROM users WHERE name = ?", [name]).map { (try $0["hash"], try $0["role"]) }
        }
        // Without such a user, a hash is still checked so the reply takes as long.
        let hash = stored?.hash ?? Self.dummyHash
        let ok = await Self.verify(password, hash: hash) && stored != nil
        guard ok, let stored, let role = Role(rawValue: stored.role) else {
            try await store.writeAsync { db in
                for key in keys { try db.execute("INSERT INTO login_failures(key, at) VALUES (?, ?)", [key, now.timeIntervalSince1970]) }
                try db.execute("DELETE FROM login_failures WHERE at < ?", [since])
            }
            return .wrong
        }
        let token = Self.randomToken()
        let session = Session(user: User(name: name, role: role), csrf: Self.randomToken(), tokenHash: Self.hashToken(token),
                              expiresAt: now.addingTimeInterval(idleTimeout))
        try await store.writeAsync { [session] db in
            try db.execute("DELETE FROM login_failures WHERE key = ?", ["user:" + name])
            try db.execute("DELETE FROM sessions WHERE expires_at < ?", [now.timeIntervalSince1970])
            try db.execute("INSERT INTO sessions(token_hash, \"user\", csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                           [session.tokenHash, name, session.csrf, now.timeIntervalSince1970, session.expiresAt.timeIntervalSince1970])
        }
        return .success(token: token, session: session)
    }

    private static let dummyHash = Bcrypt.hash("warden-dummy-password", cost: 10)

    /// bcrypt is deliberately slow (tens of milliseconds): it runs on a Dispatch thread, not
    /// on the threads that answer requests, so a burst of logins cannot stall page loads.
    private static func verify(_ password: String, hash: String) async -> Bool {
        await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async { continuation.resume(returning: Bcrypt.verify(password, hash: hash)) }
        }
    }

    /// The session of a cookie token, sliding its idle expiry; nil if unknown or expired.
    public func session(token: String, now: Date = Date()) async throws -> Session? {
        guard token.count == 43 else { return nil }
        let tokenHash = Self.hashToken(token)
        let stored = try await store.readAsync { db -> (csrf: String, created: Double, expires: Double, name: String, role: String)? in
            try db.row("""
                SELECT s.csrf, s.created_at, s.expires_at, u.name, u.role FROM sessions s JOIN users u ON u.name = s."user"
                WHERE s.token_hash = ?
                """, [tokenHash]).map { (try $0["csrf"], try $0["created_at"], try $0["expires_at"], try $0["name"], try $0["role"]) }
        }
        guard let stored, let role = Role(rawValue: stored.role) else { return nil }
        let expires = stored.expires
        let created = stored.created
        let now = now.timeIntervalSince1970
        guard expires > now, created + absoluteTimeout > now else { return nil }
        var newExpiry = expires
        // Slide the idle expiry at most once a minute: a write per request would serialise every page view.
        if expires - now < idleTimeout - 60 {
            newExpiry = min(now + idleTimeout, created + absoluteTimeout)
            let expiry = newExpiry
            try await store.writeAsync { db in
                try db.execute("UPDATE sessions SET expires_at = ? WHERE token_hash = ?", [expiry, tokenHash])
            }
        }
        return Session(user: User(name: stored.name, role: role), csrf: stored.csrf, tokenHash: tokenHash,
                       expiresAt: Date(timeIntervalSince1970: newExpiry))
    }

    public func logout(tokenHash: String) throws {
        try store.write { db in try db.execute("DELETE FROM sessions WHERE token_hash = ?", [tokenHash]) }
    }

    /// 32 random bytes, base64url without padding (43 characters).
    public static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func hashToken(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Compares two secrets in time independent of where they differ.
    public static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for i in 0..<x.count { difference |= x[i] ^ y[i] }
        return difference == 0
    }
}
