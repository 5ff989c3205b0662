package config

// verNTWorkstation is OSVERSIONINFOEX.wProductType of client Windows.
const verNTWorkstation = 1

// ClientProductType reports whether an OSVERSIONINFOEX.wProductType is
// client Windows rather than Windows Server.
func ClientProductType(productType uint8) bool { return productType == verNTWorkstation }

// defaultHandlerForProductType picks the default handler for a Windows
// product type: "hyperv" on client SKUs, "process" on servers.
func defaultHandlerForProductType(productType uint8) string {
	if ClientProductType(productType) {
		return string(IsolationHyperV)
	}
	return string(IsolationProcess)
}
