import CPCRE2

/// A case-insensitive Aho-Corasick automaton over all rule keywords: one pass over a text tells which rules have a
/// keyword in it. The alphabet is reduced to the byte classes that occur in keywords, so the transition table is
/// small (states x classes) and stays in cache. A class: scans read it through the shared `RuleSet`, and a struct
/// of five arrays would be copied (five retains and releases) on every scan.
public final class KeywordPrefilter: Sendable {
    /// Byte -> class; class 0 is "no keyword uses this byte (case-folded)".
    private let byteClass: [UInt8]
    private let classCount: Int
    /// Dense DFA: transitions[state * classCount + class].
    private let transitions: [Int32]
    /// For each state, the indices (into `ruleGroups`) reported when the state is reached; -1 when none.
    private let outputGroup: [Int32]
    /// Distinct sets of rule indices.
    private let ruleGroups: [[Int]]
    /// The fast path (nil when some keyword is shorter than 3 bytes): a SIMD trigram filter plus exact verification.
    private let pairs: TrigramFilter?

    /// `keywords[i]` are the keywords of rule `i` (any case); rules without keywords are not in the automaton.
    public init(keywords: [[String]]) {
        var classes = [UInt8](repeating: 0, count: 256)
        var nextClass: UInt8 = 1
        for list in keywords {
            for keyword in list {
                for byte in keyword.lowercased().utf8 where classes[Int(byte)] == 0 {
                    classes[Int(byte)] = nextClass
                    nextClass &+= 1
                    precondition(nextClass != 0, "keywords use more than 255 distinct bytes")
                }
            }
        }
        // Fold upper-case ASCII onto lower-case classes.
        for upper in UInt8(ascii: "A")...UInt8(ascii: "Z") { classes[Int(upper)] = classes[Int(upper + 32)] }
        let classCount = Int(nextClass)

        // Trie.
        var children: [[Int32]] = [[Int32](repeating: -1, count: classCount)]
        var outputs: [Set<Int>] = [[]]
        for (rule, list) in keywords.enumerated() {
            for keyword in list where !keyword.isEmpty {
                var state = 0
                for byte in keyword.lowercased().utf8 {
                    let cls = Int(classes[Int(byte)])
                    if children[state][cls] < 0 {
                        children[state][cls] = Int32(children.count)
                        children.append([Int32](repeating: -1, count: classCount))
                        outputs.append([])
                    }
                    state = Int(children[state][cls])
                }
                outputs[state].insert(rule)
            }
        }
        // Breadth-first failure links, turning the trie into a DFA.
        var failure = [Int](repeating: 0, count: children.count)
        var queue: [Int] = []
        for cls in 0..<classCount {
            let child = children[0][cls]
            if child < 0 { children[0][cls] = 0 } else { failure[Int(child)] = 0; queue.append(Int(child)) }
        }
        children[0][0] = 0
        var head = 0
        while head < queue.count {
            let state = queue[head]
            head += 1
            outputs[state].formUnion(outputs[failure[state]])
            for cls in 0..<classCount {
                let child = children[state][cls]
                if child < 0 || cls == 0 {
                    children[state][cls] = children[failure[state]][cls]
                } else {
                    failure[Int(child)] = Int(children[failure[state]][cls])
                    queue.append(Int(child))
                }
            }
        }
        var groups: [[Int]] = []
        var groupIndex: [[Int]: Int32] = [:]
        var outputGroup = [Int32](repeating: -1, count: children.count)
        for (state, set) in outputs.enumerated() where !set.isEmpty {
            let sorted = set.sorted()
            if let known = groupIndex[sorted] {
                outputGroup[state] = known
            } else {
                groupIndex[sorted] = Int32(groups.count)
                outputGroup[state] = Int32(groups.count)
                groups.append(sorted)
            }
        }
        self.byteClass = classes
        self.classCount = classCount
        self.transitions = children.flatMap { $0 }
        self.outputGroup = outputGroup
        self.ruleGroups = groups
        self.pairs = TrigramFilter(keywords: keywords)
    }

    /// Every keyword occurrence in `text` as (rule, byte offset just past the keyword), in text order (by end).
    public func keywordHits(in text: UnsafeBufferPointer<UInt8>) -> [(rule: Int, end: Int)] {
        if let pairs { return pairs.keywordHits(in: text) }
        return self.automatonHits(in: text)
    }

    /// The same hits found by the Aho-Corasick automaton alone, one byte at a time (reference and fallback).
    public func automatonHits(in text: UnsafeBufferPointer<UInt8>) -> [(rule: Int, end: Int)] {
        guard let base = text.baseAddress, self.transitions.count > self.classCount else { return [] }
        var groupHits: [(group: Int32, end: Int)] = []
        self.byteClass.withUnsafeBufferPointer { classes in
            self.transitions.withUnsafeBufferPointer { table in
                self.outputGroup.withUnsafeBufferPointer { output in
                    var state = 0
                    let width = self.classCount
                    for index in 0..<text.count {
                        let cls = Int(classes[Int(base[index])])
                        state = Int(table[state &* width &+ cls])
                        if state != 0 {
                            let group = output[state]
                            if group >= 0 { groupHits.append((group, index + 1)) }
                        }
                    }
                }
            }
        }
        var hits: [(rule: Int, end: Int)] = []
        hits.reserveCapacity(groupHits.count)
        for (group, end) in groupHits {
            for rule in self.ruleGroups[Int(group)] { hits.append((rule, end)) }
        }
        return hits
    }
}

/// The prefilter's fast path. Every keyword gets one anchor trigram (its rarest three adjacent bytes by a fixed
/// frequency estimate, common prose trigrams penalised); a SIMD nibble-table scan over 16 buckets (Teddy-style,
/// `gw_tri_scan` in the CPCRE2 shim) followed by a hashed trigram bitmap reports the positions where one of those
/// trigrams may occur, which is a superset; each candidate is then checked exactly against the keywords anchored on
/// that trigram (ASCII case folded like the automaton). Every occurrence of every keyword contains its anchor
/// trigram, so the hits are exactly the automaton's. (Two-byte anchors flagged about 14% of prose positions; three
/// bytes over 16 buckets far fewer.)
struct TrigramFilter: Sendable {
    struct Entry: Sendable {
        /// Lower-case keyword bytes.
        let bytes: [UInt8]
        /// Offset of the anchor trigram inside the keyword.
        let offset: Int
        /// Rules having this keyword.
        let rules: [Int]
        /// The anchor trigram, folded: first byte in the low byte.
        let tri: UInt32
    }

    let tables: gw_tri_tables
    /// Entries sorted by trigram.
    let entries: [Entry]
    /// For each folded first byte of a trigram, the range of `entries` whose trigram starts with it (empty when none).
    let entriesByFirst: [Range<Int>]
    /// 64 Ki bits indexed by `gw_tri_hash` of a folded trigram: may this be an anchor trigram.
    let triBits: [UInt64]

    /// Lower-case ASCII letters fold; other bytes are themselves (the automaton's case folding).
    @inline(__always) static func fold(_ byte: UInt8) -> UInt8 { byte &- 65 < 26 ? byte | 0x20 : byte }

    /// Three bytes as one trigram value, the first in the low byte (how anchors, the common list and the scan's
    /// candidates are compared).
    @inline(__always) static func trigram(_ a: UInt8, _ b: UInt8, _ c: UInt8) -> UInt32 {
        UInt32(a) | UInt32(b) << 8 | UInt32(c) << 16
    }

    /// Rough frequency rank of a (folded) byte in prose and code: lower is rarer.
    static func weight(_ byte: UInt8) -> Double {
        switch byte {
        case UInt8(ascii: " "): return 18
        case UInt8(ascii: "e"): return 11
        case UInt8(ascii: "t"), UInt8(ascii: "a"): return 8
        case UInt8(ascii: "o"), UInt8(ascii: "i"), UInt8(ascii: "n"): return 7
        case UInt8(ascii: "s"), UInt8(ascii: "h"), UInt8(ascii: "r"): return 6
        case UInt8(ascii: "d"), UInt8(ascii: "l"): return 4
        case UInt8(ascii: "c"), UInt8(ascii: "u"), UInt8(ascii: "m"), UInt8(ascii: "w"): return 3
        case UInt8(ascii: "f"), UInt8(ascii: "g"), UInt8(ascii: "y"), UInt8(ascii: "p"): return 2
        case UInt8(ascii: "b"), UInt8(ascii: "."), UInt8(ascii: ","), UInt8(ascii: "\n"): return 1.5
        case UInt8(ascii: "v"), UInt8(ascii: "k"), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "="),
            UInt8(ascii: "\""), UInt8(ascii: "_"), UInt8(ascii: "-"): return 1
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return 0.5
        case UInt8(ascii: "x"), UInt8(ascii: "j"), UInt8(ascii: "q"), UInt8(ascii: "z"): return 0.2
        default: return 0.3
        }
    }

    /// Trigrams that are common in English prose and code although their bytes are not (`will`, `they`, `access`,
    /// `create`, `secret`-like `sec`...): as anchors they would stop the scan all the time. An anchor candidate in this
    /// list scores `commonPenalty` times worse, so another trigram of the keyword is taken when there is one.
    static let commonTrigrams: Set<UInt32> = Set(
        ("the and ing ion tio ent ati for her ter hat tha ere ate his con res ver all ons nce men ith ted ers pro thi "
            + "wit are ess not ive was ect rea com eve per int est sta cti ica ist ear ain one our iti rat wil ill key sec "
            + "cre acc abi asi aki ake tok oke ken ret ial ass pas ord ase sed ort ous out rom ome ble uld oul ave hey hen "
            + "red den").split(separator: " ").map { word in
                let bytes = Array(word.utf8)
                return Self.trigram(bytes[0], bytes[1], bytes[2])
            })
    static let commonPenalty = 25.0

    /// Estimated cost of anchoring on the folded trigram `bytes[0..<3]`: lower is rarer.
    static func anchorScore(_ a: UInt8, _ b: UInt8, _ c: UInt8) -> Double {
        let common = Self.commonTrigrams.contains(Self.trigram(a, b, c))
        return Self.weight(a) * Self.weight(b) * Self.weight(c) * (common ? Self.commonPenalty : 1)
    }

    init?(keywords: [[String]]) {
        var rulesByKeyword: [[UInt8]: [Int]] = [:]
        for (rule, list) in keywords.enumerated() {
            for keyword in list where !keyword.isEmpty {
                rulesByKeyword[Array(keyword.lowercased().utf8), default: []].append(rule)
            }
        }
        if rulesByKeyword.isEmpty || rulesByKeyword.keys.contains(where: { $0.count < 3 }) { return nil }
        var entries: [Entry] = []
        for (bytes, rules) in rulesByKeyword {
            var best = 0
            var bestScore = Double.infinity
            for offset in 0..<(bytes.count - 2) {
                let score = Self.anchorScore(bytes[offset], bytes[offset + 1], bytes[offset + 2])
                if score < bestScore { bestScore = score; best = offset }
            }
            let tri = Self.trigram(Self.fold(bytes[best]), Self.fold(bytes[best + 1]), Self.fold(bytes[best + 2]))
            entries.append(Entry(bytes: bytes, offset: best, rules: Array(Set(rules)).sorted(), tri: tri))
        }
        func key(_ tri: UInt32) -> (UInt32, UInt32, UInt32) { (tri & 0xFF, (tri >> 8) & 0xFF, tri >> 16) }
        entries.sort { left, right in
            let l = key(left.tri), r = key(right.tri)
            return l != r ? l < r : left.bytes.lexicographicallyPrecedes(right.bytes)
        }
        var byFirst = [Range<Int>](repeating: 0..<0, count: 256)
        var index = 0
        while index < entries.count {
            let first = Int(entries[index].tri & 0xFF)
            var end = index
            while end < entries.count && Int(entries[end].tri & 0xFF) == first { end += 1 }
            byFirst[first] = index..<end
            index = end
        }
        var bits = [UInt64](repeating: 0, count: 1024)
        var distinct: [UInt32] = []
        for entry in entries where distinct.last != entry.tri { distinct.append(entry.tri) }
        var tablesA = [[UInt8]](repeating: [UInt8](repeating: 0, count: 16), count: 6)
        var tablesB = tablesA
        func variants(_ byte: UInt8) -> [UInt8] {
            byte &- 97 < 26 ? [byte, byte - 32] : [byte]
        }
        // Buckets: greedy, each trigram (most frequent-looking first) goes where it adds the least estimated false
        // positive weight: a bucket's nibble tables accept every byte whose low and high nibbles both occur at a slot,
        // so its weight is the product over the three slots of the frequency weights of the bytes accepted there.
        var lowSets = [[UInt16]](repeating: [0, 0, 0], count: 16), highSets = lowSets
        func weight(lows: [UInt16], highs: [UInt16]) -> Double {
            var product = 1.0
            for slot in 0..<3 {
                var sum = 0.0
                for byte in 0..<256 where lows[slot] & (1 << UInt16(byte & 15)) != 0 && highs[slot] & (1 << UInt16(byte >> 4)) != 0 {
                    sum += Self.weight(Self.fold(UInt8(byte)))
                }
                product *= sum
            }
            return product
        }
        var bucketOf: [UInt32: Int] = [:]
        let ordered = distinct.sorted { left, right in
            let l = (0..<3).reduce(1.0) { $0 * Self.weight(UInt8((left >> (8 * UInt32($1))) & 0xFF)) }
            let r = (0..<3).reduce(1.0) { $0 * Self.weight(UInt8((right >> (8 * UInt32($1))) & 0xFF)) }
            return l != r ? l > r : left < right
        }
        for tri in ordered {
            var best = 0
            var bestIncrease = Double.infinity
            for bucket in 0..<16 {
                var lows = lowSets[bucket], highs = highSets[bucket]
                for slot in 0..<3 {
                    for variant in variants(UInt8((tri >> (8 * UInt32(slot))) & 0xFF)) {
                        lows[slot] |= 1 << UInt16(variant & 15)
                        highs[slot] |= 1 << UInt16(variant >> 4)
                    }
                }
                let increase = weight(lows: lows, highs: highs) - weight(lows: lowSets[bucket], highs: highSets[bucket])
                if increase < bestIncrease { bestIncrease = increase; best = bucket }
            }
            bucketOf[tri] = best
            for slot in 0..<3 {
                for variant in variants(UInt8((tri >> (8 * UInt32(slot))) & 0xFF)) {
                    lowSets[best][slot] |= 1 << UInt16(variant & 15)
                    highSets[best][slot] |= 1 << UInt16(variant >> 4)
                }
            }
        }
        for tri in distinct {
            let bucketIndex = bucketOf[tri]!
            let bucket = UInt8(1) << UInt8(bucketIndex & 7)
            let hash = gw_tri_hash(tri)
            bits[Int(hash >> 6)] |= 1 << UInt64(hash & 63)
            for slot in 0..<3 {
                let byte = UInt8((tri >> (8 * UInt32(slot))) & 0xFF)
                for variant in variants(byte) {
                    if bucketIndex < 8 {
                        tablesA[2 * slot][Int(variant & 15)] |= bucket
                        tablesA[2 * slot + 1][Int(variant >> 4)] |= bucket
                    } else {
                        tablesB[2 * slot][Int(variant & 15)] |= bucket
                        tablesB[2 * slot + 1][Int(variant >> 4)] |= bucket
                    }
                }
            }
        }
        var tables = gw_tri_tables()
        withUnsafeMutableBytes(of: &tables) { raw in
            for (row, table) in (tablesA + tablesB).enumerated() {
                for (column, value) in table.enumerated() { raw[row * 16 + column] = value }
            }
        }
        self.tables = tables
        self.entries = entries
        self.entriesByFirst = byFirst
        self.triBits = bits
    }

    func keywordHits(in text: UnsafeBufferPointer<UInt8>) -> [(rule: Int, end: Int)] {
        guard let base = text.baseAddress, text.count >= 3 else { return [] }
        let count = text.count
        // Hits go straight into the result, rule by rule, in position order; a keyword flood made an intermediate
        // array and a sort the cost of the scan.
        var hits: [(rule: Int, end: Int)] = []
        var sorted = true
        let capacity = 512
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: capacity) { positions in
            withUnsafePointer(to: self.tables) { tables in
                self.triBits.withUnsafeBufferPointer { bits in
                    self.entries.withUnsafeBufferPointer { entries in
                        var next = 0
                        while next < count {
                            var stop = 0
                            let got = gw_tri_scan(tables, bits.baseAddress, base, count, next, positions.baseAddress,
                                                  capacity, &stop)
                            for slot in 0..<got {
                                let position = Int(positions[slot])
                                let first = Self.fold(base[position])
                                let candidates = self.entriesByFirst[Int(first)]
                                if candidates.isEmpty { continue }
                                let tri = Self.trigram(first, Self.fold(base[position + 1]), Self.fold(base[position + 2]))
                                for candidate in candidates where entries[candidate].tri == tri {
                                    let entry = entries[candidate]
                                    let start = position - entry.offset
                                    let end = start + entry.bytes.count
                                    guard start >= 0, end <= count else { continue }
                                    var equal = true
                                    entry.bytes.withUnsafeBufferPointer { keyword in
                                        for offset in 0..<keyword.count where Self.fold(base[start + offset]) != keyword[offset] {
                                            equal = false
                                            break
                                        }
                                    }
                                    if equal {
                                        if let last = hits.last, last.end > end { sorted = false }
                                        for rule in entry.rules { hits.append((rule, end)) }
                                    }
                                }
                            }
                            next = stop
                        }
                    }
                }
            }
        }
        // Found in position order, so sorted by end unless keywords of different lengths overlap.
        if !sorted { hits.sort { $0.end < $1.end || ($0.end == $1.end && $0.rule < $1.rule) } }
        return hits
    }
}
