/// What `warden --version`, the start-up log line and `warden_build_info` report.
///
/// The version is written here by hand when a release is cut (the Makefile reads it for the
/// .deb's name). The commit is stamped by `make release`/`make deb`, which generate the
/// git-ignored BuildStamp.generated.swift and compile with `-DWARDEN_STAMPED`; a plain
/// `swift build` compiles without the flag and reports the commit as "unknown" rather than
/// failing for want of a generated file.
enum BuildInfo {
    static let version = "0.9.0"

    #if WARDEN_STAMPED
    static let commit = BuildStamp.commit
    #else
    static let commit = "unknown"
    #endif

    /// `warden 0.9.0 (commit 1a2b3c4d)`.
    static var description: String { "warden \(version) (commit \(commit))" }
}
