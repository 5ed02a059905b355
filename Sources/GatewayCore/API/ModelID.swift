/// How model ids compare: Python's `str.strip()` (Unicode whitespace) then `str.lower()`, as the
/// upstream gateway compares them. The model registry routes by it and x402 prices by it, so a
/// model has a price exactly when it has a route.
public enum ModelID {
    public static func normalize(_ model: String) -> String {
        let scalars = Array(model.unicodeScalars)
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        var trimmed = String.UnicodeScalarView()
        trimmed.append(contentsOf: scalars[first...last])
        return String(trimmed).lowercased()
    }
}
