// The reciprocal transform between the two DRHT stages (docs/MODEL.md):
//   tau(H)     = (H / k) ** (1 / g)          linear HDR radiance -> the "LDR domain"
//   tau_inv(y) = k * max(y, 0) ** g           back to linear HDR (gamma correction)
//   x2         = log(H + eps)                 the logarithmic operation fed to the second network
import DRHTEngine
import Foundation

/// The transform's constants, stored in the weights file's metadata.
public struct TransformConstants: Equatable, Sendable {
    /// gamma g (docs/MODEL.md: 2.2)
    public var gamma: Float = 2.2
    /// scale k (docs/MODEL.md: 1.0)
    public var scale: Float = 1.0
    /// epsilon of the log (docs/MODEL.md: 1/255)
    public var epsilon: Float = 1.0 / 255

    public init() {}
    public init(gamma: Float, scale: Float, epsilon: Float) {
        self.gamma = gamma; self.scale = scale; self.epsilon = epsilon
    }

    /// tau(H) = (H / k) ** (1 / g)
    public func tau(_ h: Tensor) -> Tensor { Pow.forward(h, exponent: 1 / gamma, scale: powf(1 / scale, 1 / gamma)) }

    /// tau_inv(y) = k * max(y, 0) ** g
    public func tauInverse(_ y: Tensor) -> Tensor { Pow.forward(y, exponent: gamma, scale: scale) }

    /// log(H + eps)
    public func log(_ h: Tensor) -> Tensor { Log.forward(h, epsilon: epsilon) }

    /// Metadata strings as the weights file stores them.
    public var metadata: [String: String] {
        ["gamma": "\(gamma)", "scale": "\(scale)", "epsilon": "\(epsilon)"]
    }
}
