/// Nelder–Mead simplex minimisation (Nelder & Mead 1965, with the standard coefficients 1, 2, ½, ½), restarted from
/// its own answer until a restart no longer improves it (a collapsed simplex can stop short of the minimum).
/// Derivative-free, so the models only implement their log-likelihood.
struct NelderMead {
    /// Stop when the simplex's values and its size are both within these.
    var valueTolerance = 1e-11
    var sizeTolerance = 1e-9
    var maximumEvaluations = 20_000
    var restarts = 3

    /// The minimum of `function` found starting from `start`, with its value.
    func minimize(_ function: ([Double]) -> Double, from start: [Double], step: Double = 0.5)
        -> (point: [Double], value: Double)
    {
        var best = (point: start, value: sanitized(function(start)))
        for _ in 0...restarts {
            let next = run(function, from: best.point, step: step)
            let improved = next.value < best.value - valueTolerance
            if next.value <= best.value { best = next }
            if !improved { break }
        }
        return best
    }

    private func sanitized(_ value: Double) -> Double { value.isNaN ? .infinity : value }

    private func run(_ function: ([Double]) -> Double, from start: [Double], step: Double)
        -> (point: [Double], value: Double)
    {
        let dimension = start.count
        var simplex = [start]
        for index in 0..<dimension {
            var vertex = start
            vertex[index] += step
            simplex.append(vertex)
        }
        var values = simplex.map { sanitized(function($0)) }
        var evaluations = simplex.count
        while evaluations < maximumEvaluations {
            let order = values.indices.sorted { values[$0] < values[$1] }
            simplex = order.map { simplex[$0] }
            values = order.map { values[$0] }
            let size = simplex.dropFirst().map { vertex in zip(vertex, simplex[0]).map { abs($0 - $1) }.max() ?? 0 }
                .max() ?? 0
            if values[dimension] - values[0] <= valueTolerance * (1 + abs(values[0])), size <= sizeTolerance { break }

            var centroid = [Double](repeating: 0, count: dimension)
            for vertex in simplex.dropLast() {
                for index in 0..<dimension { centroid[index] += vertex[index] / Double(dimension) }
            }
            func along(_ coefficient: Double) -> [Double] {
                (0..<dimension).map { centroid[$0] + coefficient * (simplex[dimension][$0] - centroid[$0]) }
            }
            func evaluate(_ point: [Double]) -> Double {
                evaluations += 1
                return sanitized(function(point))
            }
            let reflected = along(-1)
            let reflectedValue = evaluate(reflected)
            if reflectedValue < values[0] {
                let expanded = along(-2)
                let expandedValue = evaluate(expanded)
                (simplex[dimension], values[dimension]) =
                    expandedValue < reflectedValue ? (expanded, expandedValue) : (reflected, reflectedValue)
            } else if reflectedValue < values[dimension - 1] {
                (simplex[dimension], values[dimension]) = (reflected, reflectedValue)
            } else {
                let outside = reflectedValue < values[dimension]
                let contracted = along(outside ? -0.5 : 0.5)
                let contractedValue = evaluate(contracted)
                if contractedValue < (outside ? reflectedValue : values[dimension]) {
                    (simplex[dimension], values[dimension]) = (contracted, contractedValue)
                } else {
                    for index in 1...dimension {
                        simplex[index] = (0..<dimension).map { simplex[0][$0] + 0.5 * (simplex[index][$0] - simplex[0][$0]) }
                        values[index] = evaluate(simplex[index])
                    }
                }
            }
        }
        let bestIndex = values.indices.min { values[$0] < values[$1] } ?? 0
        return (simplex[bestIndex], values[bestIndex])
    }
}
