import Glibc

/// The member names of the objects a JSON walk is inside, innermost last, so that a name used twice in one object is
/// refused (RFC 7493 §2.3). Names are compared after unescaping.
///
/// Names stay byte ranges of the body; only a name with escapes is decoded (once). A small object compares a new
/// name with each earlier one; past `linearLimit` names the object gets a hash index, so a hostile object with a
/// million members still costs linear time. The hash is the standard library's per-process seeded one, so colliding
/// names cannot be prepared in advance.
struct MemberNames {
    private struct Name {
        let range: Range<Int>
        /// The unescaped bytes, for names written with escapes; nil when the bytes between the quotes are the name.
        let decoded: [UInt8]?
    }

    static let linearLimit = 16

    private var names: [Name] = []
    /// For each open object: where its names start in `names`, and its hash index once it has one.
    private var objects: [(start: Int, index: [Int: [Int]]?)] = []

    mutating func enterObject() { self.objects.append((self.names.count, nil)) }

    mutating func leaveObject() {
        let object = self.objects.removeLast()
        self.names.removeSubrange(object.start...)
    }

    /// Adds the name written as the literal `range` (quotes included) to the innermost object; false when that
    /// object already has a member of that name.
    mutating func insert(_ range: Range<Int>, hasEscapes: Bool, in body: UnsafeBufferPointer<UInt8>) -> Bool {
        let name = Name(range: range, decoded: hasEscapes ? JSONStringCodec.decode(body, literal: range) : nil)
        let last = self.objects.count - 1
        let start = self.objects[last].start
        if self.objects[last].index == nil, self.names.count - start < Self.linearLimit {
            for earlier in self.names[start...] where Self.same(earlier, name, in: body) { return false }
            self.names.append(name)
            return true
        }
        if self.objects[last].index == nil {
            var index: [Int: [Int]] = [:]
            for position in start..<self.names.count { index[Self.hash(self.names[position], in: body), default: []].append(position) }
            self.objects[last].index = index
        }
        let hash = Self.hash(name, in: body)
        for position in self.objects[last].index![hash] ?? [] where Self.same(self.names[position], name, in: body) {
            return false
        }
        self.objects[last].index![hash, default: []].append(self.names.count)
        self.names.append(name)
        return true
    }

    private static func withBytes<R>(_ name: Name, in body: UnsafeBufferPointer<UInt8>, _ use: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        if let decoded = name.decoded { return decoded.withUnsafeBufferPointer(use) }
        return use(UnsafeBufferPointer(rebasing: body[(name.range.lowerBound + 1)..<(name.range.upperBound - 1)]))
    }

    private static func same(_ first: Name, _ second: Name, in body: UnsafeBufferPointer<UInt8>) -> Bool {
        withBytes(first, in: body) { one in
            withBytes(second, in: body) { two in
                one.count == two.count && (one.count == 0 || memcmp(one.baseAddress!, two.baseAddress!, one.count) == 0)
            }
        }
    }

    private static func hash(_ name: Name, in body: UnsafeBufferPointer<UInt8>) -> Int {
        withBytes(name, in: body) { bytes in
            var hasher = Hasher()
            hasher.combine(bytes: UnsafeRawBufferPointer(bytes))
            return hasher.finalize()
        }
    }
}
