/// Proportions with their uncertainty: a precision from 12 verdicts is not a precision from 1,200.
public enum Statistics {
    /// The 95% Wilson score interval of `successes` in `trials` (well-behaved near 0 and 1, unlike the normal
    /// approximation). Nil for no trials.
    public static func wilson(successes: Int, trials: Int, z: Double = 1.959964) -> Report.Estimate? {
        guard trials > 0 else { return nil }
        let n = Double(trials)
        let p = Double(successes) / n
        let z2 = z * z
        let centre = (p + z2 / (2 * n)) / (1 + z2 / n)
        let half = z * (p * (1 - p) / n + z2 / (4 * n * n)).squareRoot() / (1 + z2 / n)
        return Report.Estimate(value: p, low: max(0, centre - half), high: min(1, centre + half), samples: trials)
    }
}
