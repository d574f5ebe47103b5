/// A case-insensitive Aho-Corasick automaton over all rule keywords: one pass over a text tells which rules have a
/// keyword in it. The alphabet is reduced to the byte classes that occur in keywords, so the transition table is
/// small (states x classes) and stays in cache.
public struct KeywordPrefilter: Sendable {
    /// Byte -> class; class 0 is "no keyword uses this byte (case-folded)".
    private let byteClass: [UInt8]
    private let classCount: Int
    /// Dense DFA: transitions[state * classCount + class].
    private let transitions: [Int32]
    /// For each state, the indices (into `ruleGroups`) reported when the state is reached; -1 when none.
    private let outputGroup: [Int32]
    /// Distinct sets of rule indices.
    private let ruleGroups: [[Int]]

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
    }

    /// Every keyword occurrence in `text` as (rule, byte offset just past the keyword), in text order.
    public func keywordHits(in text: UnsafeBufferPointer<UInt8>) -> [(rule: Int, end: Int)] {
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
