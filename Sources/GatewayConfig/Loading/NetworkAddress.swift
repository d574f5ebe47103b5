/// Checks on listener addresses: syntax, and whether an address is reachable only from this machine.
enum NetworkAddress {
    /// An IPv4 or IPv6 literal or a DNS host name.
    static func isValid(_ address: String) -> Bool {
        isIPv4(address) || isIPv6(address) || isHostName(address)
    }

    /// `127.0.0.0/8`, `::1` and `localhost`: the admin listener may bind these without `allow_remote`.
    static func isLoopback(_ address: String) -> Bool {
        let lowered = address.lowercased()
        if lowered == "localhost" || lowered == "::1" || lowered == "0:0:0:0:0:0:0:1" { return true }
        return isIPv4(address) && address.hasPrefix("127.")
    }

    static func isIPv4(_ address: String) -> Bool {
        let parts = address.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in
            !part.isEmpty && part.count <= 3 && part.allSatisfy(\.isASCII) && part.allSatisfy(\.isNumber)
                && Int(part).map { $0 <= 255 } == true
        }
    }

    static func isIPv6(_ address: String) -> Bool {
        guard address.contains(":"), address.ranges(of: "::").count <= 1, !address.contains(":::") else { return false }
        let groups = address.split(separator: ":", omittingEmptySubsequences: true)
        guard groups.count <= 8 else { return false }
        for (index, group) in groups.enumerated() {
            if index == groups.count - 1, isIPv4(String(group)) { continue }
            guard group.count <= 4, group.allSatisfy(\.isHexDigit) else { return false }
        }
        return address.contains("::") || groups.count == 8 || (groups.count == 7 && isIPv4(String(groups.last!)))
    }

    static func isHostName(_ address: String) -> Bool {
        guard !address.isEmpty, address.count <= 253 else { return false }
        return address.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            !label.isEmpty && label.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        }
    }
}
