// Package js runs JavaScript (goja) on a threadrunner loop.
package js
