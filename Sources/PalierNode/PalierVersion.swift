/// This build's version: `palier --version`, the package's version, `palier status`, metrics.
public enum PalierVersion {
    public static let current = "0.1.0"
}
