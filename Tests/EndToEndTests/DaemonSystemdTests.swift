import Foundation
import Testing

private let systemdAnalyze = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].first { FileManager.default.isExecutableFile(atPath: $0) }

/// The unit file as ops install it: it must verify, and systemd must rate its sandbox "OK"
/// or better. `make deps` installs systemd so these run on CI; they skip only where
/// systemd-analyze is absent.
@Suite(.enabled(if: systemdAnalyze != nil, "systemd-analyze is not installed (apt-get install systemd)"))
struct DaemonSystemdTests {
    /// The unit with ExecStart= pointing at the binary under test (verify checks that the
    /// command exists and is executable); everything else byte for byte.
    private func unitUnderTest() throws -> String {
        let unit = try String(contentsOfFile: WardenBinary.repositoryRoot + "/systemd/warden.service", encoding: .utf8)
        let directory = "/tmp/warden-unit-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/warden.service"
        // The @…@ paths as `make install PREFIX=/usr` fills them in, the binary being the one under test.
        let installed = unit.replacingOccurrences(of: "@BINDIR@/warden", with: WardenBinary.path)
            .replacingOccurrences(of: "@SYSCONFDIR@", with: "/etc").replacingOccurrences(of: "@DATADIR@", with: "/usr/share")
            .replacingOccurrences(of: "@STATEDIR@", with: "/var/lib/warden").replacingOccurrences(of: "@DOCDIR@", with: "/usr/share/doc/warden")
        try installed.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    private func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try runCapturingOutput(systemdAnalyze ?? "/usr/bin/systemd-analyze", arguments)
    }

    @Test func unitVerifies() throws {
        let unit = try unitUnderTest()
        defer { try? FileManager.default.removeItem(atPath: (unit as NSString).deletingLastPathComponent) }
        let result = try run(["verify", "--man=no", unit])
        #expect(result.status == 0, "systemd-analyze verify:\n\(result.output)")
    }

    @Test func unitSandboxIsRatedOKOrBetter() throws {
        let unit = try unitUnderTest()
        defer { try? FileManager.default.removeItem(atPath: (unit as NSString).deletingLastPathComponent) }
        let result = try run(["security", "--offline=true", unit])
        let line = result.output.split(separator: "\n").first { $0.contains("Overall exposure level") } ?? ""
        let exposure = line.split(separator: ":").last?.split(separator: " ").first.flatMap { Double($0) }
        #expect(exposure != nil, "no exposure in:\n\(result.output)")
        #expect((exposure ?? 10) <= 2.9, "\(line)")
    }

    @Test func unitKeepsPCRE2JITAlive() throws {
        let unit = try String(contentsOfFile: WardenBinary.repositoryRoot + "/systemd/warden.service", encoding: .utf8)
        #expect(!unit.split(separator: "\n").contains { $0.hasPrefix("MemoryDenyWriteExecute=yes") })
        #expect(unit.contains("Type=notify"))
    }
}
