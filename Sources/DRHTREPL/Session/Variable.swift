// What a REPL variable holds: a tensor and what kind of thing it is, which decides how `show`
// draws it and which commands accept it.
import DRHTEngine
import DRHTModel

public struct Variable {
    public enum Kind: String {
        /// An LDR image in [0, 1], (1, 3, H, W).
        case image = "LDR image"
        /// Linear HDR radiance (unbounded, non-negative), (1, 3, H, W).
        case hdr = "HDR radiance"
        /// log(H + eps), the second network's input.
        case logHDR = "log HDR"
        /// A layer's output, (1, C, H, W).
        case features = "feature maps"
        /// A gain map in stops (log2 of the brightening), (1, 1, H, W).
        case gain = "gain map"
        /// How much each input pixel matters to one number (`saliency`, `rf`), (1, 1, H, W).
        case attribution = "attribution map"
        /// An HDR estimate's error in stops against the real radiance (`hdrerror`), (1, 1, H, W).
        case hdrError = "HDR error map"
    }
    public var tensor: Tensor
    public var kind: Kind
    /// How it was made, e.g. "load photo.png", "step hdr.enc1".
    public var origin: String

    public init(_ tensor: Tensor, kind: Kind, origin: String) {
        self.tensor = tensor; self.kind = kind; self.origin = origin
    }

    /// Images and HDR images are 3-channel; everything else is shown as feature maps.
    public var isImage: Bool { kind != .features && tensor.shape.count == 4 && tensor.c == 3 }
}

/// A mistake in the REPL: one line that says what went wrong and what to do.
public struct REPLError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ message: String) { description = message }
}

/// User-changeable settings (`set KEY VALUE`).
public struct Settings {
    public enum Display: String, CaseIterable { case blocks, kitty, sixel, ascii, none }
    public enum ColourMap: String, CaseIterable { case auto, viridis, gray, diverging }
    public var display: Display = .blocks
    public var colourMap: ColourMap = .auto
    /// Seconds: `pause` in lessons waits for Enter on a TTY.
    public var pauses = true
    /// `set mode direct`: `infer` runs the network at full resolution instead of gain mode.
    public var directMode = false
    /// Gain mode's working size (and the copy `use` steps through for large photos).
    public var workSize = CorrectionMode.defaultWorkSize
    /// How `infer` corrects.
    public var correction: CorrectionMode { directMode ? .direct : .gain(workSize: workSize) }
    public init() {}
}
