package config

// verNTWorkstation is OSVERSIONINFOEX.wProductType of client Windows.
const verNTWorkstation = 1

// defaultHandlerForProductType picks the default handler for a Windows
// product type: "hyperv" on client SKUs, "process" on servers.
func defaultHandlerForProductType(productType uint8) string {
	if productType == verNTWorkstation {
		return string(IsolationHyperV)
	}
	return string(IsolationProcess)
}
