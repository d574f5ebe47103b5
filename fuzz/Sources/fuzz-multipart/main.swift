// fuzz-multipart: the input is a request body with `Content-Type: multipart/form-data; boundary=fuzzboundary` (seeds use that boundary).
import FuzzSupport
import GatewayRules

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> CInt {
    _ = FuzzInspector.shared  // load (and check) the rules before the first input
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    fuzzBody(Array(UnsafeBufferPointer(start: data, count: size)), contentType: "multipart/form-data; boundary=fuzzboundary")
    return 0
}
