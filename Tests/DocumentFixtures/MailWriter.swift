/// Writes e-mail messages for tests: a quoted-printable text part, a base64 HTML part, and attachments (base64).
public enum MailWriter {
    public static func message(subject: String, text: String, html: String? = nil,
                               attachments: [(name: String, type: String, data: [UInt8])] = []) -> [UInt8]
    {
        let boundary = "b1_test_boundary"
        var out = "From: Alice <alice@example.test>\r\nTo: Bob <bob@example.test>\r\nSubject: \(subject)\r\n"
        out += "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"\(boundary)\"\r\n\r\n"
        out += "--\(boundary)\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
        out += quotedPrintable(text) + "\r\n"
        if let html {
            out += "--\(boundary)\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            out += base64Lines(Array(html.utf8)) + "\r\n"
        }
        for attachment in attachments {
            out += "--\(boundary)\r\nContent-Type: \(attachment.type); name=\"\(attachment.name)\"\r\n"
            out += "Content-Disposition: attachment; filename=\"\(attachment.name)\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            out += base64Lines(attachment.data) + "\r\n"
        }
        out += "--\(boundary)--\r\n"
        return Array(out.utf8)
    }

    /// Quoted-printable with every `=`, and every 10th character, encoded, and soft line breaks every 20 characters,
    /// so a value is never written whole.
    static func quotedPrintable(_ text: String) -> String {
        var out = ""
        for (index, byte) in text.utf8.enumerated() {
            if byte == UInt8(ascii: "=") || index % 10 == 9 || byte >= 0x80 {
                out += "=" + String(byte, radix: 16, uppercase: true).leftPadded(2)
            } else {
                out += String(UnicodeScalar(byte))
            }
            if index % 20 == 19 { out += "=\r\n" }
        }
        return out
    }

    static func base64Lines(_ data: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        var out = ""
        var index = 0
        var line = 0
        while index < data.count {
            let chunk = (UInt32(data[index]) << 16) | (index + 1 < data.count ? UInt32(data[index + 1]) << 8 : 0)
                | (index + 2 < data.count ? UInt32(data[index + 2]) : 0)
            out.append(alphabet[Int(chunk >> 18 & 63)])
            out.append(alphabet[Int(chunk >> 12 & 63)])
            out.append(index + 1 < data.count ? alphabet[Int(chunk >> 6 & 63)] : "=")
            out.append(index + 2 < data.count ? alphabet[Int(chunk & 63)] : "=")
            index += 3
            line += 4
            if line >= 76 { out += "\r\n"; line = 0 }
        }
        return out
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - self.count)) + self }
}
