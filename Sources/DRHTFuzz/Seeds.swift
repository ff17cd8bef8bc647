// The valid files every mutation starts from, made in memory (nothing outside the repo needed).
import DRHTEngine
import DRHTImageIO
import DRHTModel

public enum FuzzSeeds {
    /// A 24 x 16 test picture (gradients and a few edges).
    static func picture() -> Tensor {
        let t = Tensor(zeros: [1, 3, 16, 24])
        for c in 0..<3 { for y in 0..<16 { for x in 0..<24 { t[0, c, y, x] = Float((x * 9 + y * 5 + c * 60 + (x > 12 ? 90 : 0)) % 256) / 255 } } }
        return t
    }

    /// Valid files of `format`; mutations pick one of them.
    public static func seeds(_ format: FuzzFormat) -> [[UInt8]] {
        let t = picture()
        switch format {
        case .png:
            return [try! PNG.encode(t), try! PNG.encode(t, bits: 16)]
        case .jpeg:
            return [try! JPEG.encode(t), try! JPEG.encode(t, quality: 60, progressive: true)]
        case .radiance:
            let hdr = t.copy()
            for i in 0..<hdr.count { hdr.data[i] = hdr.data[i] * hdr.data[i] * 40 }
            return [try! RadianceHDR.encode(hdr, rle: true), try! RadianceHDR.encode(hdr, rle: false)]
        case .npy:
            return [NPY.encode(Tensor(zeros: [12, 16, 3]).filled { Float($0 % 29) / 29 })]
        case .safetensors:
            let a = Tensor(zeros: [2, 3]).filled { Float($0) - 2 }, b = Tensor(zeros: [4]).filled { Float($0) / 4 }
            return [SafeTensorsFile.encode([("a", a), ("b", b)], metadata: ["format": "drht-1", "note": "fuzz seed"])]
        }
    }
}

extension Tensor {
    /// Self with element i set to f(i).
    func filled(_ f: (Int) -> Float) -> Tensor {
        for i in 0..<count { data[i] = f(i) }
        return self
    }
}
