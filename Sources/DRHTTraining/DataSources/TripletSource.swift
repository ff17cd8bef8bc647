// Where triplets come from, as a protocol: a source draws random training and validation
// samples and fixed, whole held-out items, and says how a held-out pass over it reads. Each
// kind is one file in this folder; `DataSource.kinds` is the list `--data` parses (synth,
// photos:DIR, panorama:DIR, panorama-photo:DIR, a triplet folder), and `+` mixes them.
import DRHTEngine
import Foundation

public protocol TripletSource: CustomStringConvertible {
    /// Items a held-out pass can go through once each; nil: as many as asked for.
    var itemCount: Int? { get }
    /// One `size` x `size` training or validation sample: a random view (`framing`) of a random
    /// item, all drawn from `seed` (`Split.trainingSeed`, or `Split.validation.seed(i)`).
    func sample(seed: UInt64, size: Int, framing: Framing) throws -> Triplet
    /// Item `i` of a held-out pass, whole, photographed by camera `Split.evaluation.seed(i)`;
    /// `ev` fixes the exposure (where the source has none of its own). Returns a short name
    /// for the item and the triplet.
    func item(_ i: Int, size: Int, ev: Float?) throws -> (id: String, triplet: Triplet)
    /// A held-out pass in words: `count` items from item `first` at `size`, `exposure` saying
    /// how they are exposed ("exposed +1 EV").
    func describePass(count: Int, size: Int, first: Int, exposure: String) -> String
    /// An evaluation's count and size when the user gives none (`exposures`: one pass per
    /// exposure, so each item once).
    func defaultPass(exposures: Bool) -> (count: Int, size: Int)
    /// The items carry their own exposure (a triplet folder): a fixed --ev does not apply.
    var fixedExposure: Bool { get }
    /// The items are photos re-exposed by a known camera, so its exact inverse is an oracle.
    var reexposesPhotos: Bool { get }
}

extension TripletSource {
    public var fixedExposure: Bool { false }
    public var reexposesPhotos: Bool { false }
}

/// How `--data` names one kind of source.
public struct SourceKind {
    /// As help shows it: "photos:DIR".
    public let syntax: String
    /// "photos:" (the rest is the argument), "synth" (exactly), nil (any folder: the fallback).
    public let prefix: String?
    public let exact: Bool
    public let make: (_ argument: String) throws -> any TripletSource

    public init(syntax: String, prefix: String?, exact: Bool = false, make: @escaping (String) throws -> any TripletSource) {
        self.syntax = syntax; self.prefix = prefix; self.exact = exact; self.make = make
    }
}

/// A source as the rest of drht holds it: training, validation and evaluation all take one.
public struct DataSource: CustomStringConvertible {
    public let source: any TripletSource
    /// What it was parsed from (`photos:data/photos/train+synth`), so a checkpoint can record
    /// it; nil for a source made in code, which `--resume` must then be told again.
    public let spec: String?
    public init(_ source: any TripletSource, spec: String? = nil) { self.source = source; self.spec = spec }

    /// Every kind `--data` knows, the fallback (a triplet folder) last. A new kind: its file
    /// in DataSources/ and its line here.
    public static let kinds: [SourceKind] = [SyntheticSource.kind, SyntheticSource.underKind, PhotoSource.kind, PanoramaSource.kind, PanoramaSource.photoKind,
                                             TripletFolderSource.kind]

    public static var synthetic: DataSource { DataSource(SyntheticSource(), spec: "synth") }

    /// Parses one kind (`DataSource.kinds`: the first whose prefix matches; the last, a
    /// triplet folder, takes anything else), or several joined by `+` (a mix).
    public static func parse(_ spec: String) throws -> DataSource {
        if spec.contains("+") {
            let parts = try spec.split(separator: "+").map { try parse(String($0)).source }
            guard parts.count >= 2 else { throw TrainingError("\(spec): write sources as A+B, e.g. synth+photos:DIR") }
            return DataSource(MixedSource(parts: parts), spec: spec)
        }
        let (kind, argument) = kindAndArgument(spec)
        return DataSource(try kind.make(argument), spec: spec)
    }

    /// The kind one source (no `+`) names, and what follows its prefix: the first kind whose
    /// prefix matches; the last, a triplet folder, takes anything else.
    static func kindAndArgument(_ spec: String) -> (kind: SourceKind, argument: String) {
        let kind = kinds.first { kind in
            guard let prefix = kind.prefix else { return true }
            return kind.exact ? spec == prefix : spec.hasPrefix(prefix)
        }!
        return (kind, kind.prefix.map { kind.exact ? "" : String(spec.dropFirst($0.count)) } ?? spec)
    }

    /// `spec` with every folder made absolute (from the current directory), so a checkpoint's
    /// record of it reads the same data from anywhere: `photos:data/x+synth` ->
    /// `photos:/work/drht/data/x+synth`.
    public static func absolute(_ spec: String) -> String {
        let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        func path(_ p: String) -> String { p.isEmpty || p.hasPrefix("/") ? p : cwd.appendingPathComponent(p).standardizedFileURL.path }
        return spec.split(separator: "+", omittingEmptySubsequences: false).map { part -> String in
            let (kind, argument) = kindAndArgument(String(part))
            return kind.exact ? String(part) : (kind.prefix ?? "") + path(argument)
        }.joined(separator: "+")
    }

    /// "synth, photos:DIR, …, or a triplet folder", for messages.
    public static var syntaxList: String {
        let names = kinds.map(\.syntax)
        return names.dropLast().joined(separator: ", ") + " or " + names.last!
    }

    /// The files of folder `dir` (sorted), or a one-line error naming what `--data` takes.
    public static func folder(_ dir: String, for syntax: String) throws -> [String] {
        guard !dir.isEmpty else {
            throw TrainingError("\(syntax.split(separator: ":")[0]): names no folder; write it as \(syntax), e.g. \(syntax.replacingOccurrences(of: "DIR", with: "data/photos/train"))")
        }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
            throw TrainingError("\(dir): no such folder; --data takes " + syntaxList)
        }
        return try FileManager.default.contentsOfDirectory(atPath: dir).sorted().map { dir + "/" + $0 }
    }

    public var description: String { source.description }
    public var itemCount: Int? { source.itemCount }
    public func sample(seed: UInt64, size: Int, framing: Framing = .crop) throws -> Triplet {
        try source.sample(seed: seed, size: size, framing: framing)
    }
    public func item(_ i: Int, size: Int, ev: Float? = nil) throws -> (id: String, triplet: Triplet) {
        try source.item(i, size: size, ev: ev)
    }
}
