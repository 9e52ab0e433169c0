import CFuzzerDriver
import Foundation
import WardenCore

/// What `Judge` hands a template, with fixed values: rendering must never trap, and a
/// template that compiles with no problem reported must render.
nonisolated(unsafe) private let context: [String: Any] = [
    "author": ["name": "Sam", "id": "u-1"],
    "guideline": ["id": "profanity", "title": "No profanity", "url": "https://example.org/g#p", "text": "Keep it clean."],
    "guidelines": [
        ["id": "profanity", "title": "No profanity", "url": "https://example.org/g#p", "text": "Keep it clean."],
        ["id": "spam", "title": "No spam", "url": "https://example.org/g#s", "text": "No adverts.", "last": true],
    ],
    "redacted_text": "what the **** & <b>",
    "org": ["name": "Example", "contact": "mods@example.org"],
    "action": "delete",
    "action_past": "deleted",
    "post": ["id": "fb-1", "platform": "facebook"],
    "rule": ["id": "profanity.strong"],
    "route_to": "",
]

@_cdecl("LLVMFuzzerTestOneInput")
func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let source = String(validating: UnsafeBufferPointer(start: data, count: size), as: UTF8.self) else { return 0 }
    let compiled = MessageTemplate.compile(source)
    precondition((compiled.template == nil) == !compiled.problems.isEmpty, "a template both compiled and had problems, or neither")
    for problem in compiled.problems {
        precondition(problem.line >= 1 && problem.column >= 1, "problem reported at line \(problem.line) column \(problem.column)")
    }
    if let template = compiled.template {
        _ = template.render(context)
    }
    return 0
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv, { data, size in fuzz(data, size) }))
