/// Why a document (or a part of one) could not be read. Every case means "uninspectable": blocked unless the
/// role explicitly lets uninspectable uploads through.
public enum DocumentError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A password protects it (an encrypted PDF, a password-protected Office file, an encrypted ZIP member).
    case encrypted
    /// It claims a format but does not parse as one (truncated, corrupt).
    case damaged(String)
    /// A format the gateway cannot read: an unknown binary, or an image while OCR is off.
    case unreadable(String)
    /// A limit of `DocumentLimits` was reached; `limit` names it (`pages`, `decompressed_bytes`, `compression_ratio`,
    /// `archive_members`, `nesting_depth`, `text_bytes`, `image_pixels`).
    case limitExceeded(limit: String, detail: String)
    /// The inspection deadline passed during extraction.
    case deadlineExceeded

    public var description: String {
        switch self {
        case .encrypted: "it is encrypted or password-protected"
        case .damaged(let why): "it is damaged (\(why))"
        case .unreadable(let what): "\(what) cannot be inspected"
        case .limitExceeded(_, let detail): "it exceeds a limit (\(detail))"
        case .deadlineExceeded: "its extraction did not finish within the inspection deadline"
        }
    }
}
