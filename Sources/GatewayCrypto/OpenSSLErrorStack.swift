import COpenSSL

/// One entry of OpenSSL's thread-local error queue, as readable text.
public struct OpenSSLErrorEntry: Sendable, Hashable, CustomStringConvertible {
    /// The packed OpenSSL error code.
    public let code: UInt
    /// OpenSSL's own text for the code, e.g. `error:0A000086:SSL routines::certificate verify failed`.
    public let message: String
    /// Extra data OpenSSL attached (a file name, an offset), or empty.
    public let detail: String

    public var description: String { self.detail.isEmpty ? self.message : "\(self.message) (\(self.detail))" }
}

/// A drained copy of OpenSSL's error queue.
///
/// OpenSSL reports failures by pushing entries onto a per-thread queue. Every wrapper that sees a failure drains the
/// queue into one of these at once, so the text travels with the Swift error and the queue is empty for the next
/// call on the same thread (a stale entry would otherwise be blamed on an unrelated connection).
public struct OpenSSLErrorStack: Sendable, Hashable, CustomStringConvertible {
    public let entries: [OpenSSLErrorEntry]

    public init(entries: [OpenSSLErrorEntry]) { self.entries = entries }

    /// Empties the calling thread's OpenSSL error queue into a value.
    public static func drain() -> OpenSSLErrorStack {
        var entries: [OpenSSLErrorEntry] = []
        while true {
            var data: UnsafePointer<CChar>? = nil
            var flags: Int32 = 0
            let code = ERR_get_error_all(nil, nil, nil, &data, &flags)
            if code == 0 { break }
            var text = [CChar](repeating: 0, count: 256)
            text.withUnsafeMutableBufferPointer { ERR_error_string_n(code, $0.baseAddress, $0.count) }
            let message = text.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            let detail = (flags & ERR_TXT_STRING) != 0 && data != nil ? String(cString: data!) : ""
            entries.append(OpenSSLErrorEntry(code: UInt(code), message: message, detail: detail))
        }
        return OpenSSLErrorStack(entries: entries)
    }

    public var description: String {
        self.entries.isEmpty ? "no OpenSSL error recorded" : self.entries.map(\.description).joined(separator: "; ")
    }
}

/// A failed call into OpenSSL's crypto library, with the operation that failed and the drained error queue.
public struct CryptoError: Error, Sendable, CustomStringConvertible {
    public let operation: String
    public let stack: OpenSSLErrorStack

    public init(_ operation: String, stack: OpenSSLErrorStack = .drain()) {
        self.operation = operation
        self.stack = stack
    }

    public var description: String { "\(self.operation) failed: \(self.stack)" }
}
