/// A ZIP archive read from its central directory, members inflated on demand under the budget. Only what Office
/// files and ordinary archives use: stored and deflated members, no ZIP64, no encryption (an encrypted member is
/// reported as such, not read).
struct ZipArchive {
    struct Member {
        let name: String
        let method: UInt16
        let encrypted: Bool
        let compressedSize: Int
        let uncompressedSize: Int
        let localHeaderOffset: Int
    }

    let members: [Member]

    /// Reads the central directory of `bytes`; throws `.damaged` when there is none or it points outside the data,
    /// `.limitExceeded` past `maximumArchiveMembers`.
    init(_ bytes: UnsafeBufferPointer<UInt8>, maximumMembers: Int) throws(DocumentError) {
        guard let end = Self.endOfCentralDirectory(bytes) else { throw .damaged("no ZIP central directory") }
        let directoryOffset = Int(Self.u32(bytes, end + 16))
        let directoryEnd = directoryOffset + Int(Self.u32(bytes, end + 12))
        guard directoryOffset <= end, directoryEnd <= end else { throw .damaged("ZIP central directory out of bounds") }
        // Entries are read for the directory's whole size, not for the count the end record states: readers such as
        // Python's zipfile do the same, so a count of 0 cannot hide the entries from the gateway alone.
        var members: [Member] = []
        var position = directoryOffset
        while position < directoryEnd {
            guard members.count < maximumMembers else {
                throw .limitExceeded(limit: "archive_members", detail: "more than \(maximumMembers) archive members")
            }
            guard position + 46 <= bytes.count, Self.u32(bytes, position) == 0x0201_4B50 else {
                throw .damaged("ZIP central directory entry out of place")
            }
            let nameLength = Int(Self.u16(bytes, position + 28))
            let extraLength = Int(Self.u16(bytes, position + 30))
            let commentLength = Int(Self.u16(bytes, position + 32))
            guard position + 46 + nameLength <= bytes.count else { throw .damaged("ZIP member name out of bounds") }
            let compressed = Self.u32(bytes, position + 20)
            let uncompressed = Self.u32(bytes, position + 24)
            guard compressed != 0xFFFF_FFFF, uncompressed != 0xFFFF_FFFF else { throw .damaged("ZIP64 archives are not read") }
            members.append(Member(
                name: String(decoding: bytes[(position + 46)..<(position + 46 + nameLength)], as: UTF8.self),
                method: Self.u16(bytes, position + 10),
                encrypted: Self.u16(bytes, position + 8) & 1 != 0,
                compressedSize: Int(compressed),
                uncompressedSize: Int(uncompressed),
                localHeaderOffset: Int(Self.u32(bytes, position + 42))
            ))
            position += 46 + nameLength + extraLength + commentLength
        }
        self.members = members
    }

    /// The member's content, inflated under the budget.
    func content(of member: Member, in bytes: UnsafeBufferPointer<UInt8>, budget: ExtractionBudget)
        throws(DocumentError) -> [UInt8]
    {
        if member.encrypted { throw .encrypted }
        let header = member.localHeaderOffset
        guard header + 30 <= bytes.count, Self.u32(bytes, header) == 0x0403_4B50 else {
            throw .damaged("ZIP local header of \(member.name) out of place")
        }
        let start = header + 30 + Int(Self.u16(bytes, header + 26)) + Int(Self.u16(bytes, header + 28))
        guard start + member.compressedSize <= bytes.count else { throw .damaged("ZIP member \(member.name) is truncated") }
        let data = UnsafeBufferPointer(rebasing: bytes[start..<(start + member.compressedSize)])
        switch member.method {
        case 0:
            try budget.spendDecompressed(data.count)
            return Array(data)
        case 8:
            // The declared size is checked as the output grows: a member that lies about it is damaged.
            let output = try Inflater.inflate(data, wrapping: .raw, expected: member.uncompressedSize, budget: budget)
            return output
        default:
            throw .unreadable("ZIP member \(member.name) (compression method \(member.method))")
        }
    }

    /// Office Open XML by its defining part, else a plain ZIP archive.
    static func officeFormat(of bytes: UnsafeBufferPointer<UInt8>) -> DocumentFormat {
        guard let archive = try? ZipArchive(bytes, maximumMembers: .max) else { return .zip }
        let names = Set(archive.members.map(\.name))
        if names.contains("word/document.xml") { return .docx }
        if names.contains("xl/workbook.xml") { return .xlsx }
        if names.contains("ppt/presentation.xml") { return .pptx }
        return .zip
    }

    private static func endOfCentralDirectory(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        guard bytes.count >= 22 else { return nil }
        var index = bytes.count - 22
        let lowest = max(0, bytes.count - 22 - 65_535)
        while index >= lowest {
            if self.u32(bytes, index) == 0x0605_4B50 { return index }
            index -= 1
        }
        return nil
    }

    static func u16(_ bytes: UnsafeBufferPointer<UInt8>, _ offset: Int) -> UInt16 {
        guard offset + 2 <= bytes.count else { return 0 }
        return UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
    }

    static func u32(_ bytes: UnsafeBufferPointer<UInt8>, _ offset: Int) -> UInt32 {
        guard offset + 4 <= bytes.count else { return 0 }
        return UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16
            | UInt32(bytes[offset + 3]) << 24
    }
}
