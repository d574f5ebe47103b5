// fuzz-text: the input is a request body with `Content-Type: text/plain; charset=utf-8`.
import FuzzSupport
import GatewayRules

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> CInt {
    _ = FuzzInspector.shared  // load (and check) the rules before the first input
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    fuzzBody(Array(UnsafeBufferPointer(start: data, count: size)), contentType: "text/plain; charset=utf-8")
    return 0
}
