/// Accumulates problems and warnings while one load runs. Loading is single-threaded and the collector never
/// escapes it, so it is a plain class rather than an actor; only the immutable results leave the loader.
final class DiagnosticCollector {
    private(set) var problems: [ConfigProblem] = []
    private(set) var warnings: [ConfigWarning] = []

    func problem(_ file: String, _ keyPath: ConfigKeyPath, _ message: String, line: Int? = nil, column: Int? = nil) {
        problems.append(ConfigProblem(file: file, keyPath: keyPath, message: message, line: line, column: column))
    }

    func warning(_ file: String, _ keyPath: ConfigKeyPath, _ message: String, line: Int? = nil) {
        warnings.append(ConfigWarning(file: file, keyPath: keyPath, message: message, line: line))
    }
}
