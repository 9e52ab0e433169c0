import Foundation
import Testing
@testable import WardenDaemon

@Suite("warden.yaml is checked like the rules")
struct DaemonConfigurationTests {
    private func load(_ yaml: String) throws -> (path: String, result: Result<DaemonConfiguration, ConfigurationError>) {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/warden.yaml"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        do { return (path, .success(try DaemonConfiguration.load(file: path))) } catch { return (path, .failure(error)) }
    }

    @Test func everyProblemIsListedWithItsLineAndColumn() throws {
        let (path, result) = try load("""
            organisation:
              name: Acme
              contcat: our page
            workers: two
            log_levle: debug
            retention: { done: 7d, histroy: 1h }
            durable: perhaps
            """)
        guard case .failure(let error) = result else {
            Issue.record("loaded a configuration with five mistakes")
            return
        }
        let lines = error.description.split(separator: "\n").map(String.init)
        #expect(lines == [
            "\(path):3:3: error: unknown key \"organisation.contcat\"; did you mean \"organisation.contact\"?",
            "\(path):4:10: error: workers must be a whole number (found \"two\")",
            "\(path):5:1: error: unknown key \"log_levle\"; did you mean \"log_level\"?",
            "\(path):6:24: error: unknown key \"retention.histroy\"; did you mean \"retention.history\"?",
            "\(path):7:10: error: durable must be true or false",
        ])
    }

    @Test func valuesRememberWhereTheyCameFrom() throws {
        let (path, result) = try load("workers: 3\nretention:\n  done: forever\n")
        let configuration = try result.get()
        #expect(configuration.workers == 3)
        #expect(configuration.doneRetention == nil)
        #expect(configuration.origins["workers"] == "\(path):1:10")
        #expect(configuration.origins["retention.done"] == "\(path):3:9")
        let values = configuration.effectiveValues()
        #expect(values.first { $0.key == "max_batch" }?.origin == "default")
        #expect(values.map(\.key) == DaemonConfiguration.keys)
    }

    @Test func aMissingFileSaysSo() throws {
        #expect { try DaemonConfiguration.load(file: "/nonexistent/warden.yaml") } throws: { error in
            "\(error)".contains("/nonexistent/warden.yaml: configuration file not found")
        }
    }

    @Test func aSectionMustBeAMapping() throws {
        let (_, result) = try load("limits: 5\n")
        guard case .failure(let error) = result else {
            Issue.record("accepted limits: 5")
            return
        }
        #expect(error.problems.first?.line == 1 && error.problems.first?.column == 9)
    }
}
