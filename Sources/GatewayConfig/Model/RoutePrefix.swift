/// Path-prefix routing on whole segments: `/v1/models` covers `/v1/models` and `/v1/models/gpt-4o` but not
/// `/v1/modelsX`. Segment matching is what an operator means by a prefix, and it keeps two providers' prefixes
/// from capturing each other's paths by accident.
public enum RoutePrefix {
    /// Whether the request `path` (query ignored) falls under `prefix`.
    public static func covers(_ prefix: String, path: String) -> Bool {
        let pathOnly = path.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? path
        guard pathOnly.hasPrefix(prefix) else { return false }
        if pathOnly.count == prefix.count || prefix.hasSuffix("/") { return true }
        return pathOnly[pathOnly.index(pathOnly.startIndex, offsetBy: prefix.count)] == "/"
    }

    /// Whether some request path would fall under both prefixes (so routing between them would be ambiguous).
    public static func overlap(_ first: String, _ second: String) -> Bool {
        covers(first, path: second) || covers(second, path: first)
    }
}
