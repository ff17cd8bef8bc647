// JSON written through Codable: an object is a list of members whose values are numbers (nil
// and non-finite ones become null), text, arrays or objects. Keys are sorted, so the same run
// prints the same bytes.
import Foundation

public indirect enum JSONValue: Encodable {
    case number(Double?)
    case text(String)
    case array([JSONObject])
    case object(JSONObject)

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .number(let v): if let v, v.isFinite { try c.encode(v) } else { try c.encodeNil() }
        case .text(let t): try c.encode(t)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }
}

public struct JSONObject: Encodable {
    public var members: [(String, JSONValue)]
    public init(_ members: [(String, JSONValue)]) { self.members = members }

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        for (k, v) in members { try c.encode(v, forKey: Key(stringValue: k)) }
    }

    /// One line of JSON.
    public var text: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
