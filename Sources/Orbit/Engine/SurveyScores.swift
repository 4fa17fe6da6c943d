extension HostUpdates {
    /// The NPS answer a `survey` event carries: its `score`, a whole number from 0 to 10. Nil for other events and for
    /// surveys without a score; any other score rejects the event.
    static func surveyResponse(of event: Event) throws(EventRejection) -> SurveyResponse? {
        guard event.type == "survey", let score = event.data["score"] else { return nil }
        guard case .integer(let value) = score, (0...10).contains(value) else {
            throw EventRejection("a survey's 'score' must be a whole number from 0 to 10, got \(score)")
        }
        return SurveyResponse(eventID: event.id, customerID: event.customerID, at: event.at, score: Int(value))
    }
}
