/// One reason a configuration or policy file cannot be used. Start-up refuses to bind anything while any exist.
public struct ConfigProblem: Sendable, Hashable, CustomStringConvertible {
    /// The file the problem is in, as the operator named it (relative paths stay relative so messages stay short).
    public let file: String
    /// Where in the file; `.root` for problems about the whole file (unreadable, YAML syntax).
    public let keyPath: ConfigKeyPath
    /// What is wrong and, where possible, what to write instead. Never contains a credential value.
    public let message: String
    /// The 1-based line of the offending value when the YAML parser knows it.
    public let line: Int?
    /// The 1-based column of the offending value when the YAML parser knows it.
    public let column: Int?

    public init(file: String, keyPath: ConfigKeyPath, message: String, line: Int? = nil, column: Int? = nil) {
        self.file = file
        self.keyPath = keyPath
        self.message = message
        self.line = line
        self.column = column
    }

    /// `FILE: key.path: message (line N)`; the key path is left out for whole-file problems.
    public var description: String {
        ConfigDiagnosticFormat.line(file: file, keyPath: keyPath, message: message, line: line, column: column)
    }
}

/// Something in a configuration that works but is probably not what the operator wants (an empty vendor
/// credential, a role that lets secrets leave). Warnings never stop start-up.
public struct ConfigWarning: Sendable, Hashable, CustomStringConvertible {
    /// The file the warning is about.
    public let file: String
    /// Where in the file.
    public let keyPath: ConfigKeyPath
    /// What looks wrong. Never contains a credential value.
    public let message: String
    /// The 1-based line when known.
    public let line: Int?

    public init(file: String, keyPath: ConfigKeyPath, message: String, line: Int? = nil) {
        self.file = file
        self.keyPath = keyPath
        self.message = message
        self.line = line
    }

    /// `FILE: key.path: warning: message (line N)`.
    public var description: String {
        ConfigDiagnosticFormat.line(file: file, keyPath: keyPath, message: "warning: " + message, line: line, column: nil)
    }
}

/// The one printed form shared by problems and warnings, so `gatewayctl config check` and `gatewayd` agree.
enum ConfigDiagnosticFormat {
    static func line(file: String, keyPath: ConfigKeyPath, message: String, line: Int?, column: Int?) -> String {
        var printed = file + ": "
        if !keyPath.components.isEmpty { printed += keyPath.description + ": " }
        printed += message
        switch (line, column) {
        case let (line?, column?) where keyPath.components.isEmpty: printed += " (line \(line), column \(column))"
        case let (line?, _): printed += " (line \(line))"
        default: break
        }
        return printed
    }
}
